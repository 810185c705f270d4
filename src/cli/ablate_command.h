#pragma once
// `diffbench ablate`.
#include <string>

#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace diffbench::cli {

void setup_ablate(CLI::App& app, AblateOptions& options);
int run_ablate(const AblateOptions& options);

}  // namespace diffbench::cli
