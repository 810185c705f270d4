#pragma once
// The options run, sweep, ablate and ab share, registered once.
#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace diffbench::cli {

/// Register the options `run` and `sweep` both take (not --sampler/--steps/--shape).
void add_common_options(CLI::App& app, RunOptions& o);

/// Register every option of `run` (one sampler, one step count, one shape, its files, and the common
/// ones): the main command's, and each side of `ab` parsed the same way.
void add_run_options(CLI::App& app, RunOptions& o);

}  // namespace diffbench::cli
