#pragma once
// `diffbench sweep`.
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace diffbench::cli {

void setup_sweep(CLI::App& app, SweepOptions& options);
int run_sweep(const SweepOptions& options);

}  // namespace diffbench::cli
