#pragma once
// Simulated `ab` blocks and the sequential procedure run over them, shared by the committed
// simulation (bench/ab_simulation.cpp, the figures of docs/compare.md) and tests/test_sequential.cpp.
#include <cmath>
#include <random>
#include <vector>

#include "diffbench/gate/sequential.h"

namespace diffbench::simulation {

/// Log ratios new/base of `n` blocks around log(1 + change): an AR(1) series with standard
/// deviation `sd` and lag-1 correlation `rho` (the machine's state carries from block to block).
inline std::vector<double> correlated_blocks(std::mt19937_64& rng, int n, double change, double sd, double rho) {
  std::normal_distribution<double> z(0, 1);
  std::vector<double> x;
  double e = sd * z(rng);
  for (int i = 0; i < n; ++i) {
    x.push_back(std::log1p(change) + e);
    e = rho * e + sd * std::sqrt(1 - rho * rho) * z(rng);
  }
  return x;
}

/// The verdict and block count of the whole procedure on one series: a look at each look_blocks(j)
/// until a verdict or the series ends (undecided).
struct Decision {
  SequentialVerdict verdict = SequentialVerdict::undecided;
  int blocks = 0;
};
inline Decision decide_series(const std::vector<double>& x, const SequentialSettings& s) {
  for (int j = 1;; ++j) {
    const int n = look_blocks(j, s.first_look);
    if (n > static_cast<int>(x.size())) return {SequentialVerdict::undecided, static_cast<int>(x.size())};
    const SequentialLook look = sequential_look(std::vector<double>(x.begin(), x.begin() + n), j, s);
    if (look.verdict != SequentialVerdict::undecided) return {look.verdict, n};
  }
}

/// The fraction of `sims` runs of `cells` independent cells (each `n` blocks at most) in which any
/// cell is decided `want`.
inline double any_cell_rate(int sims, int cells, int n, double change, double sd, double rho, SequentialVerdict want,
                            const SequentialSettings& s, uint64_t seed = 2026) {
  std::mt19937_64 rng(seed);
  int hits = 0;
  for (int i = 0; i < sims; ++i) {
    bool any = false;
    for (int c = 0; c < cells; ++c) any |= decide_series(correlated_blocks(rng, n, change, sd, rho), s).verdict == want;
    hits += any;
  }
  return double(hits) / sims;
}

}  // namespace diffbench::simulation
