// Paired quality differences between the cells of one sweep: against a named baseline and between
// neighbouring step counts of one sampler.
#include "diffbench/quality/cell_pairs.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/setting_names.h"

namespace diffbench {
namespace {

bool has_features(const RunResult& r) { return r.status == RunStatus::ok && r.fd && r.fd->features.defined(); }

// Image i of both cells came from the same initial noise.
bool same_noise(const RunResult& a, const RunResult& b) {
  return a.spec.seed == b.spec.seed && a.spec.shape == b.spec.shape && a.fd->samples == b.fd->samples;
}

CellPair make_pair(const std::vector<RunResult>& results, size_t a, size_t b, const char* kind,
                   const ReferenceStats& stats, const PairMargins& margins) {
  const FdQuality &qa = *results[a].fd, &qb = *results[b].fd;
  CellPair p;
  p.a = a;
  p.b = b;
  p.kind = kind;
  const uint64_t seed = results[a].spec.seed;
  p.fd = paired_fd(qa.features, qb.features, stats.moments, margins.fd, 200, seed);
  if (qa.kid && qb.kid && stats.features.defined())
    p.kid = paired_kid(qa.features, qb.features, stats.features, margins.kid, 200, seed);
  p.unpaired_half_width = std::hypot(qa.resolvable(), qb.resolvable());
  return p;
}

std::string cell_name(const RunResult& r) { return fmt::format("{}:{}", r.spec.sampler->name, r.spec.steps); }

}  // namespace

std::vector<CellPair> pair_cells(const std::vector<RunResult>& results,
                                 const std::vector<std::pair<std::string, int>>& baselines, const ReferenceStats& stats,
                                 const PairMargins& margins) {
  std::vector<CellPair> pairs;
  for (const auto& base_cell : baselines) {
    const auto* baseline = &base_cell;
    std::vector<size_t> bases;
    std::vector<std::string> names;
    for (size_t i = 0; i < results.size(); ++i) {
      if (!has_features(results[i])) continue;
      names.push_back(cell_name(results[i]));
      if (results[i].spec.sampler->name == baseline->first && results[i].spec.steps == baseline->second) bases.push_back(i);
    }
    if (bases.empty()) {
      throw UsageError(fmt::format("{} {}:{} is not among this sweep's quality cells ({})",
                                   setting_name("quality_baseline"), baseline->first, baseline->second,
                                   names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
    }
    for (size_t i = 0; i < results.size(); ++i) {
      if (!has_features(results[i])) continue;
      for (size_t base : bases) {
        const bool listed = std::any_of(pairs.begin(), pairs.end(), [&](const CellPair& p) {
          return p.a == base && p.b == i;  // two baselines against each other: once
        });
        if (i != base && !listed && same_noise(results[i], results[base]))
          pairs.push_back(make_pair(results, i, base, "baseline", stats, margins));
      }
    }
  }
  // Neighbours: per sampler and shape, each step count against the next larger one measured.
  std::vector<size_t> order;
  for (size_t i = 0; i < results.size(); ++i) {
    if (has_features(results[i])) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    const RunSpec &a = results[x].spec, &b = results[y].spec;
    return std::tie(a.sampler->name, a.shape, a.seed, a.steps) <
           std::tie(b.sampler->name, b.shape, b.seed, b.steps);
  });
  for (size_t k = 0; k + 1 < order.size(); ++k) {
    const RunResult &a = results[order[k]], &b = results[order[k + 1]];
    const bool listed = std::any_of(pairs.begin(), pairs.end(), [&](const CellPair& p) {
      return (p.a == order[k] && p.b == order[k + 1]) || (p.a == order[k + 1] && p.b == order[k]);
    });
    if (!listed && a.spec.sampler == b.spec.sampler && a.spec.steps != b.spec.steps && same_noise(a, b))
      pairs.push_back(make_pair(results, order[k], order[k + 1], "neighbour", stats, margins));
  }
  return pairs;
}

}  // namespace diffbench
