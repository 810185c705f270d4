#pragma once
// `diffbench [run options]`.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace diffbench::cli {

void setup_run(CLI::App& app, RunOptions& options);
int run_run(const RunOptions& options);

}  // namespace diffbench::cli
