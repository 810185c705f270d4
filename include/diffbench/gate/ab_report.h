#pragma once
// `diffbench ab`'s verdict: each cell's sequential test and the whole result, as console text,
// Markdown and JSON.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "diffbench/gate/sequential.h"

namespace diffbench {

/// One cell's sequential test.
struct AbCell {
  std::string label;
  nlohmann::json config;  ///< the base side's run config: `history` matches ab reports' cells on it
  std::vector<double> base_s, new_s, log_ratios;  ///< one figure per counted block
  std::vector<SequentialLook> looks;
  SequentialLook decided;  ///< the look that decided (or the last one)
};

/// The whole verdict of one `ab`.
struct AbResult {
  std::string mode;
  bool shared_models = false;  ///< both sides on one copy of the models (BlockSource::shared_models)
  int blocks = 0;
  double elapsed_s = 0, budget_s = 0;
  int max_blocks = 0;
  SequentialSettings settings;  ///< alpha here is each cell's share
  double alpha = 0.05;  ///< the whole run's error rate (split over the cells)
  bool budget_out = false;
  bool held_back = false;  ///< a "slower" look was not accepted: contended blocks, within the allowance
  int runs = 0, contended = 0;  ///< counted runs, and those measured under contention (contention.h)
  std::vector<AbCell> cells;
  std::vector<std::string> context_warnings;
};

/// The closing line: REGRESSION (with each slower cell), UNDECIDED or no slowdown, and the exit code.
std::string ab_verdict_line(const AbResult& r);
std::string ab_console(const AbResult& r);
std::string ab_markdown(const AbResult& r);
nlohmann::json ab_json(const AbResult& r);

}  // namespace diffbench
