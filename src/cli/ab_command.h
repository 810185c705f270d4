#pragma once
// `diffbench ab`.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace diffbench::cli {

void setup_ab(CLI::App& app, AbOptions& options);
int run_ab(const AbOptions& options);

}  // namespace diffbench::cli
