#pragma once
// `diffbench sweep`.
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/run_command.h"

namespace diffbench::cli {

/// `diffbench sweep`: a grid of runs in one process, each cell written as it finishes.
struct SweepOptions {
  RunOptions run;  ///< every `run` option; --json is rewritten after each cell
  std::string samplers, steps, batches, grid, jsonl, resume, shard;
  std::vector<std::string> shapes, cells;  ///< cells: extra SAMPLER:STEPS beyond the product
  std::optional<int> shard_plan;  ///< --shard-plan N: print how N shards split the grid, run nothing
  std::vector<std::string> quality_baseline;  ///< SAMPLER:STEPS each: every quality cell is compared with it, paired
  double quality_margin = 2.0;  ///< an FD difference whose paired interval lies within +-this is "same"
};
void setup_sweep(CLI::App& app, SweepOptions& options);
int run_sweep(const SweepOptions& options);

}  // namespace diffbench::cli
