#pragma once
// `diffbench ab`.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/gate.h"

namespace diffbench::cli {

/// `diffbench ab`: both sides measured block by block (in this process when they share the binary,
/// else one process per side per block), A B B A ..., until a sequential test decides or the budget
/// runs out (cli/ab_processes.h, cli/ab_inprocess.h, cli/ab_report.h, diffbench/gate/sequential.h).
struct AbOptions {
  std::string base_bin, new_bin, base_args, new_args, save_base, save_new;
  double budget = 300;  ///< seconds of wall time in all, loading and warm-up included
  int max_blocks = 1000;
  int warmup_blocks = 1;  ///< uncounted blocks first (the first forward calls, cold caches)
  int reload_blocks = 0;  ///< in one process: load both sides' models again every N blocks (0: once)
  bool separate_processes = false;  ///< one process per side per block even for one binary
  std::vector<std::string> args;  ///< the run's own flags, after `--`, given to both sides
  GateOptions gate;
};
void setup_ab(CLI::App& app, AbOptions& options);
int run_ab(const AbOptions& options);

}  // namespace diffbench::cli
