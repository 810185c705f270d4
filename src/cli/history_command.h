#pragma once
// `diffbench history`.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace diffbench::cli {

void setup_history(CLI::App& app, HistoryOptions& options);
int run_history(const HistoryOptions& options);

}  // namespace diffbench::cli
