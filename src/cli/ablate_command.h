#pragma once
// `diffbench ablate`.
#include <string>

#include <CLI/CLI.hpp>

#include "cli/run_command.h"

namespace diffbench::cli {

/// `diffbench ablate`: the optimisation ladder (baseline, each toggle, all, all + a few-step sampler).
struct AblateOptions {
  RunOptions run;  ///< the baseline run (--sampler, --steps, --shape and every run option)
  std::string toggles;  ///< "" : the device's default set
  std::string fast;  ///< SAMPLER:STEPS[@MODEL]; "" : the default model's LCM student; "none": no few-step rung
  double max_drift_db = 40;
};
void setup_ablate(CLI::App& app, AblateOptions& options);
int run_ablate(const AblateOptions& options);

}  // namespace diffbench::cli
