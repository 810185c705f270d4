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
/// `steps`: std::optional<int> (one count) or std::string (a sweep's list); `shape`: std::string or
/// std::vector<std::string> (a sweep's, the flag repeated).
void add_sampler_option(CLI::App& app, std::string& sampler, Axes axes);
template <class Steps>
void add_steps_option(CLI::App& app, Steps& steps, Axes axes);
template <class Shape>
void add_shape_option(CLI::App& app, Shape& shape, Axes axes);

/// The flags several commands take for their outputs and their test, each registered here only
/// (one help text each; `what` is what this command writes or what the setting tests).
void add_json_option(CLI::App& app, std::string& path, const std::string& what);
void add_markdown_option(CLI::App& app, std::string& path, const std::string& what);
void add_quiet_flag(CLI::App& app, bool& quiet);
void add_threshold_option(CLI::App& app, double& percent, const std::string& what);
void add_alpha_option(CLI::App& app, double& alpha, const std::string& what);
void add_ignore_option(CLI::App& app, std::string& groups);

/// Register the options `run` and `sweep` both take (not --sampler/--steps/--shape).
void add_common_options(CLI::App& app, RunOptions& o);

/// Register every option of `run` (one sampler, one step count, one shape, its files, and the common
/// ones): the main command's, and each side of `ab` parsed the same way.
void add_run_options(CLI::App& app, RunOptions& o);

}  // namespace diffbench::cli
