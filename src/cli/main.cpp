// diffbench's entry point: parse, dispatch, and turn every error into one line and an exit code.
#include <csignal>
#include <cstdio>
#include <algorithm>
#include <new>

#include <c10/util/Exception.h>
#include <fmt/format.h>

#include "cli/commands.h"
#include "diffbench/errors.h"
#include "diffbench/report.h"
#include "diffbench/runner.h"

using namespace diffbench;

namespace {

void on_signal(int sig) {
  request_stop(sig);
  std::signal(sig, SIG_DFL);  // a second Ctrl-C ends the process at once
}

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"diffbench: measure diffusion samplers (time per step, total time) on TorchScript models",
               "diffbench"};
  app.set_version_flag("--version", fmt::format("diffbench {} ({}{})", build_info().version,
                                                build_info().git_sha, build_info().git_dirty ? ", dirty" : ""));
  app.footer("Exit codes: 0 ok, 1 runtime failure, 2 usage error, 3 regression (compare), 130/143 interrupted (results kept).\n"
             "Docs: README.md and docs/ in the source tree.");
  // A flag given twice takes its last value, so scripts can append overrides.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cli::RunOptions run_options;
  cli::ScheduleOptions schedule_options;
  cli::setup_run(app, run_options);
  CLI::App* list = app.add_subcommand("list", "List every sampler: paper, default steps, stochastic or not");
  cli::setup_list(*list);
  CLI::App* schedule = app.add_subcommand("schedule", "Print a sampler's timesteps, sigmas and alphas_cumprod as JSON");
  cli::setup_schedule(*schedule, schedule_options);
  cli::SweepOptions sweep_options;
  CLI::App* sweep = app.add_subcommand("sweep", "Run a grid (samplers x steps x batch x shape) in one process");
  cli::setup_sweep(*sweep, sweep_options);
  cli::MergeOptions merge_options;
  CLI::App* merge = app.add_subcommand("merge", "Join result files (shards) into one report");
  cli::setup_merge(*merge, merge_options);
  cli::CompareOptions compare_options;
  CLI::App* compare = app.add_subcommand("compare", "Compare two result files: exit 3 when something got slower");
  cli::setup_compare(*compare, compare_options);
  app.require_subcommand(0, 1);

  // `sweep --grid FILE`: the grid's keys become flags placed before the command line's own,
  // so flags given on the command line override the file.
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (!args.empty() && args[0] == "sweep") {
      for (size_t i = 1; i < args.size(); ++i) {
        std::string path;
        if (args[i] == "--grid" && i + 1 < args.size()) path = args[i + 1];
        if (args[i].rfind("--grid=", 0) == 0) path = args[i].substr(7);
        if (!path.empty()) {
          std::vector<std::string> grid = cli::grid_to_args(path);
          args.insert(args.begin() + 1, grid.begin(), grid.end());
          break;
        }
      }
    }
  } catch (const UsageError& e) {
    return fail(kExitUsage, e.what());
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes the words last-first
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(kExitUsage, fmt::format("{} (see diffbench --help)", e.what()));
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  try {
    if (list->parsed()) return cli::run_list();
    if (schedule->parsed()) return cli::run_schedule(schedule_options);
    if (sweep->parsed()) return cli::run_sweep(sweep_options);
    if (merge->parsed()) return cli::run_merge(merge_options);
    if (compare->parsed()) return cli::run_compare(compare_options);
    return cli::run_run(run_options);
  } catch (const UsageError& e) {
    return fail(kExitUsage, e.what());
  } catch (const std::bad_alloc&) {
    return fail(kExitFailure, "out of memory; try a smaller --shape or batch");
  } catch (const c10::Error& e) {
    std::string detail = cli::g_verbose ? std::string(e.what()) : one_line(e);
    return fail(kExitFailure, "LibTorch: " + detail + (cli::g_verbose ? "" : " (--verbose for detail)"));
  } catch (const std::exception& e) {
    return fail(kExitFailure, one_line(e));
  }
}
