#pragma once
// The options run, sweep, ablate and ab share, registered once.
#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace diffbench::cli {

/// How a command takes the run's axes (--sampler, --steps, --shape): one run's (run, ab's sides),
/// a baseline's (ablate), lists (sweep), or a schedule's (schedule: a sampler must be named).
enum class Axes { run, baseline, lists, schedule };

/// --sampler, --steps and --shape: registered here only (issue #43: four registrations had four
/// help texts), each help text one stem with what `axes` changes.
void add_sampler_option(CLI::App& app, std::string& sampler, Axes axes);
void add_steps_option(CLI::App& app, std::optional<int>& steps, Axes axes);
void add_steps_option(CLI::App& app, std::string& step_list);
void add_shape_option(CLI::App& app, std::string& shape, Axes axes);
void add_shape_option(CLI::App& app, std::vector<std::string>& shapes);

/// Register the options `run` and `sweep` both take (not --sampler/--steps/--shape).
void add_common_options(CLI::App& app, RunOptions& o);

/// Register every option of `run` (one sampler, one step count, one shape, its files, and the common
/// ones): the main command's, and each side of `ab` parsed the same way.
void add_run_options(CLI::App& app, RunOptions& o);

}  // namespace diffbench::cli
