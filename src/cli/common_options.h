#pragma once
// The options run, sweep, ablate and ab share, registered once.
#include <CLI/CLI.hpp>

#include "cli/run_command.h"

namespace diffbench::cli {

/// Register the options `run` and `sweep` both take (not --sampler/--steps/--shape).
void add_common_options(CLI::App& app, RunOptions& o);

}  // namespace diffbench::cli
