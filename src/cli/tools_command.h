#pragma once
// `diffbench merge` and `diffbench compare`.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace diffbench::cli {

void setup_merge(CLI::App& app, MergeOptions& options);
int run_merge(const MergeOptions& options);

void setup_compare(CLI::App& app, CompareOptions& options);
int run_compare(const CompareOptions& options);

}  // namespace diffbench::cli
