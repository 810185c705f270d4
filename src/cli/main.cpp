// diffbench's entry point: parse, dispatch, and turn every error into one line and an exit code.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <c10/util/Exception.h>
#include <fmt/format.h>

#include "diffbench/app/data_files.h"
#include "cli/run_command.h"
#include "cli/sweep_command.h"
#include "cli/grid_file.h"
#include "cli/ablate_command.h"
#include "cli/tools_command.h"
#include "cli/ab_command.h"
#include "cli/history_command.h"
#include "cli/info_commands.h"
#include "cli/help_text.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/names.h"
#include "diffbench/report/environment.h"
#include "diffbench/measure/stop.h"
#include "diffbench/core/setting_names.h"

using namespace diffbench;

namespace {

// The library names a setting by its field (steps, guidance_scale); its users here set it by a flag.
std::string flag_of(std::string_view field) {
  std::string flag = "--" + std::string(field);
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

void on_signal(int sig) {
  request_stop(sig);
  std::signal(sig, SIG_DFL);  // a second Ctrl-C ends the process at once
}

// #42: merge, compare and history measure nothing, and let the first SIGINT/SIGTERM pass (a read
// of a FIFO or a slow disk went on). They stop at once, in one line; their writes are atomic.
void exit_on_signal(int sig) {
  const char* line = sig == SIGTERM ? "error: interrupted by signal 15\n" : "error: interrupted by signal 2\n";
  ssize_t ignored = write(STDERR_FILENO, line, std::strlen(line));
  (void)ignored;
  _exit(sig == SIGTERM ? kExitSigterm : kExitSigint);
}

// One line, whatever the message holds (#42: a newline in a path spread an error over several).
int fail(int code, std::string message) {
  for (size_t at = message.find('\n'); at != std::string::npos; at = message.find('\n', at + 2))
    message.replace(at, 1, "\\n");
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return code;
}

// Main-command errors point to `diffbench --help`, a subcommand's to its own help.
std::string help_hint(const CLI::App& app) {
  std::string command = cli::parsed_command_name(app);
  return command.empty() ? "diffbench --help" : "diffbench " + command + " --help";
}

// `sweep --grid FILE`: the grid's keys become flags placed before the command line's own,
// so flags given on the command line override the file.
void expand_grid_file(std::vector<std::string>& args, const CLI::App& sweep) {
  if (args.empty() || args[0] != "sweep") return;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string path;
    if (args[i] == "--grid" && i + 1 < args.size()) path = args[i + 1];
    if (args[i].rfind("--grid=", 0) == 0) path = args[i].substr(7);
    if (!path.empty()) {
      std::vector<std::string> switches;  // flags that take no value: a grid gives them true or false
      for (const CLI::Option* opt : sweep.get_options()) {
        if (opt->get_expected_max() == 0) {
          for (const auto& name : opt->get_lnames()) switches.push_back(name);
        }
      }
      std::vector<std::string> grid =
          cli::grid_to_args(input_path(path, "--grid", true), cli::long_flags(sweep), switches);
      args.insert(args.begin() + 1, grid.begin(), grid.end());
      return;
    }
  }
}

// Every command: its options and its CLI11 subcommand (the main command's options are `run`).
struct Commands {
  cli::RunOptions run;
  cli::ListOptions list;
  cli::ScheduleOptions schedule;
  cli::SweepOptions sweep;
  cli::MergeOptions merge;
  cli::CompareOptions compare;
  cli::AbOptions ab;
  cli::HistoryOptions history;
  cli::AblateOptions ablate;
  std::string help_topic, shell;
  CLI::App *list_app, *schedule_app, *sweep_app, *merge_app, *compare_app, *ab_app, *history_app, *ablate_app,
      *help_app, *completion_app;
};

void define_commands(CLI::App& app, Commands& c) {
  app.set_version_flag("-V,--version", fmt::format("diffbench {} ({}{})", build_info().version, build_info().git_sha,
                                                   build_info().git_dirty ? ", dirty" : ""));
  app.footer(
      "Exit codes: 0 ok, 1 runtime failure, 2 usage error, 3 regression (compare, ab, history), 4 undecided (compare, "
      "ab: nothing matched, or the budget ran out first), 5 a run of the new side failed (compare, ab, history), 130/143 "
      "interrupted (results kept).\n"
      "Docs: README.md and docs/ in the source tree. `diffbench help CMD` shows a command's options.");
  // A flag given twice takes its last value, so scripts can append overrides.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  cli::setup_run(app, c.run);
  c.list_app = app.add_subcommand("list", "List every sampler: paper, default steps, stochastic or not");
  cli::setup_list(*c.list_app, c.list);
  c.schedule_app = app.add_subcommand("schedule", "Print a sampler's timesteps, sigmas and alphas_cumprod as JSON");
  cli::setup_schedule(*c.schedule_app, c.schedule);
  c.sweep_app = app.add_subcommand("sweep", "Run a grid (samplers x steps x batch x shape) in one process");
  cli::setup_sweep(*c.sweep_app, c.sweep);
  c.merge_app = app.add_subcommand("merge", "Join result files (shards) into one report");
  cli::setup_merge(*c.merge_app, c.merge);
  c.compare_app = app.add_subcommand("compare", "Compare two result files: exit 3 when something got slower");
  cli::setup_compare(*c.compare_app, c.compare);
  c.ab_app = app.add_subcommand(
      "ab", "A/B gate: both sides measured in interleaved blocks until a sequential test decides (or --budget)");
  cli::setup_ab(*c.ab_app, c.ab);
  c.history_app = app.add_subcommand("history", "Change points over a branch's reports: exit 3 on a new slowdown");
  cli::setup_history(*c.history_app, c.history);
  c.ablate_app = app.add_subcommand(
      "ablate", "The optimisation ladder: each toggle's speed-up, memory and output drift, then all together");
  cli::setup_ablate(*c.ablate_app, c.ablate);
  c.help_app = app.add_subcommand("help", "Show the help of diffbench or of one command: diffbench help sweep");
  c.help_app->add_option("command", c.help_topic, "a command name");
  c.completion_app = app.add_subcommand("completion", "Print a shell completion script: diffbench completion bash");
  c.completion_app->add_option("shell", c.shell, "bash")->required();
  app.require_subcommand(0, 1);
}

// An option that names a file given an empty value (`--json ""`): the option's name, else none.
// Every such option takes a path, so an empty one is never what was meant.
std::optional<std::string> empty_file_option(const CLI::App& app) {
  static const std::set<std::string> files = {"--json", "--csv", "--markdown", "--jsonl", "--output", "--save-base",
                                              "--save-new", "--save-latents", "--save-images", "--resume", "--config",
                                              "--grid", "--unet", "--vae", "--model", "--cond", "--uncond", "--profile"};
  std::vector<const CLI::App*> apps = {&app};
  for (const CLI::App* sub : app.get_subcommands()) apps.push_back(sub);
  for (const CLI::App* a : apps) {
    for (const CLI::Option* o : a->get_options()) {
      if (o->count() == 0 || !files.count(o->get_name())) continue;
      for (const auto& value : o->results())
        if (value.empty()) return o->get_name();
    }
  }
  return std::nullopt;
}

// Parse argv; an exit code when parsing already decided the outcome (help, version, a usage error).
std::optional<int> parse(CLI::App& app, const Commands& c, int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  cli::g_command_line.assign(argv, argv + argc);
  try {
    expand_grid_file(args, *c.sweep_app);
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
  } catch (const CLI::ExtrasError& e) {
    return fail(kExitUsage, cli::unexpected_arguments_message(app, e.what()));
  } catch (const CLI::ParseError& e) {
    return fail(kExitUsage, fmt::format("{} (see {})", e.what(), help_hint(app)));
  }
  if (std::optional<std::string> empty = empty_file_option(app))  // #42: `--json ""` wrote nothing, exit 0
    return fail(kExitUsage, fmt::format("{} needs a file name, got an empty one", *empty));
  return std::nullopt;
}

int help_command(CLI::App& app, const std::string& topic) {
  // app.help() would show the parsed subcommand's help, i.e. that of `help` itself.
  if (topic.empty())
    return std::printf("%s", app.get_formatter()->make_help(&app, "diffbench", CLI::AppFormatMode::Normal).c_str()) < 0;
  std::vector<std::string> names;
  for (CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_name() == topic) return std::printf("%s", sub->help().c_str()) < 0;
    names.push_back(sub->get_name());
  }
  throw UsageError(unknown_name_message("command", topic, names));
}

// The parsed command, run.
int dispatch(CLI::App& app, const Commands& c) {
  if (c.help_app->parsed()) return help_command(app, c.help_topic);
  if (c.completion_app->parsed()) {
    if (c.shell != "bash") throw UsageError(fmt::format("completion '{}': only bash is generated", c.shell));
    std::fputs(cli::completion_script(app).c_str(), stdout);
    return kExitOk;
  }
  if (c.list_app->parsed()) return cli::run_list(c.list);
  if (c.schedule_app->parsed()) return cli::run_schedule(c.schedule);
  if (c.sweep_app->parsed()) return cli::run_sweep(c.sweep);
  if (c.merge_app->parsed()) return cli::run_merge(c.merge);
  if (c.compare_app->parsed()) return cli::run_compare(c.compare);
  if (c.ab_app->parsed()) return cli::run_ab(c.ab);
  if (c.history_app->parsed()) return cli::run_history(c.history);
  if (c.ablate_app->parsed()) return cli::run_ablate(c.ablate);
  return cli::run_run(c.run);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"diffbench: measure diffusion samplers (time per step, total time) on your models", "diffbench"};
  Commands commands;
  define_commands(app, commands);
  set_setting_namer(flag_of);
  if (std::optional<int> code = parse(app, commands, argc, argv)) return *code;
  // #42: past `ulimit -f` the kernel's SIGXFSZ killed the process (rc 153, a .tmp left, no line);
  // ignored, the write fails with EFBIG and is reported like a full disk.
  std::signal(SIGXFSZ, SIG_IGN);
  const bool measures = !(commands.merge_app->parsed() || commands.compare_app->parsed() ||
                          commands.history_app->parsed());
  std::signal(SIGINT, measures ? on_signal : exit_on_signal);
  std::signal(SIGTERM, measures ? on_signal : exit_on_signal);
  try {
    return dispatch(app, commands);
  } catch (const UsageError& e) {
    return fail(kExitUsage, e.what());
  } catch (const Interrupted& e) {
    std::fprintf(stderr, "error: interrupted by signal %d\n", e.signal_number);
    return e.signal_number == SIGTERM ? kExitSigterm : kExitSigint;
  } catch (const FailedRunError& e) {
    return fail(kExitFailedRun, e.what());
  } catch (const std::bad_alloc&) {
    return fail(kExitFailure, "out of memory; try a smaller --shape or batch");
  } catch (const c10::Error& e) {
    std::string detail = cli::g_verbose ? std::string(e.what()) : one_line(e);
    return fail(kExitFailure, "LibTorch: " + detail + (cli::g_verbose ? "" : " (--verbose for detail)"));
  } catch (const std::exception& e) {
    return fail(kExitFailure, one_line(e));
  }
}
