// `diffbench ab`: an A/B measurement that counts the noise between processes. Each side runs as
// several separate processes, interleaved A B B A A B ... so that drift hits both sides alike; the
// gate then tests one median per process, so a process's own level (which moves by ~10% between
// processes on a VM) is part of the variance instead of a hidden bias.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "cli/session.h"
#include "diffbench/compare.h"
#include "diffbench/errors.h"
#include "diffbench/io.h"
#include "diffbench/report.h"
#include "diffbench/runner.h"

extern char** environ;

namespace diffbench::cli {
namespace {

// Shell-like words: whitespace separates, single and double quotes group.
std::vector<std::string> split_words(const std::string& text, const char* flag) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (char c : text) {
    if (quote) {
      if (c == quote)
        quote = 0;
      else
        word += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote) throw UsageError(fmt::format("{} '{}' has an unclosed quote", flag, text));
  if (in_word) words.push_back(word);
  return words;
}

std::string self_path() {
  char exe[4096] = {};
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  return n > 0 ? std::string(exe, static_cast<size_t>(n)) : "diffbench";
}

struct Side {
  std::string name, bin;
  std::vector<std::string> args;
  std::vector<nlohmann::json> runs;
  nlohmann::json context;
};

// Run one process of a side; its JSON report is read back and its runs kept.
void run_process(Side& side, const std::string& dir, int index, bool counted) {
  const std::string json = fmt::format("{}/{}-{}.json", dir, side.name, index);
  const std::string err = fmt::format("{}/{}-{}.err", dir, side.name, index);
  std::vector<std::string> argv = {side.bin};
  argv.insert(argv.end(), side.args.begin(), side.args.end());
  for (const char* w : {"--json", json.c_str(), "--quiet"}) argv.emplace_back(w);
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, side.bin.c_str(), &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw UsageError(fmt::format("ab: cannot run the {} binary '{}': {}", side.name, side.bin, std::strerror(rc)));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw RuntimeError(fmt::format("ab: waiting for the {} process failed", side.name));
    if (stop_requested()) kill(pid, SIGTERM);
  }
  if (stop_requested()) throw Interrupted(stop_requested());
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (code != 0) {
    std::string text = read_file(err, "stderr");
    std::string last = text.substr(text.rfind('\n', text.size() >= 2 ? text.size() - 2 : 0) + 1);
    while (!last.empty() && last.back() == '\n') last.pop_back();
    std::string what = fmt::format("ab: the {} process ({}) exited with code {}: {}", side.name, side.bin, code, last);
    if (code == kExitUsage) throw UsageError(what);
    throw RuntimeError(what);
  }
  if (!counted) return;
  Report report = read_report(json);
  if (side.context.is_null()) side.context = report.context;
  for (auto& run : report.runs) {
    run["process"]["pair"] = index;  // the pair this process belongs to: compare tests each pair's ratio
    side.runs.push_back(std::move(run));
  }
}

Report side_report(const Side& side) {
  Report r;
  r.path = side.name + " (ab)";
  r.schema_version = kSchemaVersion;
  r.context = side.context;
  r.runs = side.runs;
  return r;
}

void save_side(const std::string& path, const Side& side, int processes) {
  if (path.empty()) return;
  nlohmann::json doc = {
      {"schema_version", kSchemaVersion},
      {"context", side.context},
      {"runs", side.runs},
      {"ab", {{"side", side.name}, {"bin", side.bin}, {"args", side.args}, {"processes", processes}}}};
  write_output(path, doc.dump(2) + "\n");
}

// n pairs can give a one-sided p no smaller than 2^-n: a count that can never decide is refused
// before anything is measured.
void check_process_count(int processes, double alpha) {
  int needed = 1;
  while (std::ldexp(1.0, -needed) >= alpha) ++needed;
  if (processes < needed) {
    throw UsageError(
        fmt::format("--processes {}: {} pairs can never reach alpha {} (the smallest p is 2^-n); use at least {} "
                    "(10, the default, also keeps one disturbed pair from hiding a slowdown)",
                    processes, processes, alpha, needed));
  }
}

bool nothing_matches(const Side& base, const Side& next, const GateOptions& gate) {
  const CompareSettings settings{gate.threshold / 100, gate.alpha, ignore_groups(gate.ignore)};
  return compare_reports(side_report(base), side_report(next), settings).matched.empty();
}

}  // namespace

void setup_ab(CLI::App& app, AbOptions& o) {
  app.add_option("--processes", o.processes, "processes per side (each a full run with its own warm-up and repeats)")
      ->capture_default_str();
  app.add_option("--warmup-processes", o.warmup_processes, "uncounted process pairs run first (cold file caches)")
      ->capture_default_str();
  app.add_option("--base-bin", o.base_bin, "diffbench binary for the base side (default: this one)");
  app.add_option("--new-bin", o.new_bin, "diffbench binary for the new side (default: this one)");
  app.add_option("--base-args", o.base_args, "flags only the base side gets, e.g. \"--unet old.pt\"");
  app.add_option("--new-args", o.new_args, "flags only the new side gets, e.g. \"--unet new.pt\"");
  app.add_option("--save-base", o.save_base, "write the base side's runs (every process) as a report here");
  app.add_option("--save-new", o.save_new, "write the new side's runs (every process) as a report here");
  app.add_option("args", o.args, "after --: the run's flags, given to both sides (e.g. -- --sampler ddim --steps 20)");
  add_gate_options(app, o.gate, /*paired=*/true);
}

int run_ab(const AbOptions& o) {
  check_gate_options(o.gate);
  check_process_count(o.processes, o.gate.alpha);
  if (o.warmup_processes < 0) throw UsageError("--warmup-processes must be >= 0");
  for (const auto& [flag, path] : {std::pair{"--save-base", o.save_base}, std::pair{"--save-new", o.save_new}}) {
    if (!path.empty()) check_writable(path, flag);
  }
  check_distinct_outputs({{"--save-base", o.save_base},
                          {"--save-new", o.save_new},
                          {"--json", o.gate.json},
                          {"--markdown", o.gate.markdown}});
  for (const auto& a : o.args) {
    if (a == "--json" || a == "--csv" || a == "--markdown" || a.rfind("--json=", 0) == 0) {
      throw UsageError(
          fmt::format("ab writes each process's report itself; drop {} from the run's flags "
                      "(use --save-base / --save-new)",
                      a));
    }
  }
  Side base{"base", o.base_bin.empty() ? self_path() : o.base_bin, o.args, {}, nullptr};
  Side next{"new", o.new_bin.empty() ? self_path() : o.new_bin, o.args, {}, nullptr};
  for (const auto& w : split_words(o.base_args, "--base-args")) base.args.push_back(w);
  for (const auto& w : split_words(o.new_args, "--new-args")) next.args.push_back(w);
  if (base.bin == next.bin && base.args == next.args && !o.gate.quiet) {
    std::fprintf(stderr, "note: both sides are identical: an A/A test (it should find no change)\n");
  }
  char dir_template[] = "/tmp/diffbench-ab-XXXXXX";
  if (!mkdtemp(dir_template)) throw RuntimeError("ab: cannot create a temporary directory in /tmp");
  const std::string dir = dir_template;
  struct Cleanup {
    std::string dir;
    ~Cleanup() { std::system(("rm -rf '" + dir + "'").c_str()); }
  } cleanup{dir};

  // A B B A A B ...: alternating the order cancels a linear drift between the sides.
  const int total = o.warmup_processes + o.processes;
  for (int k = 0; k < total; ++k) {
    const bool counted = k >= o.warmup_processes;
    Side& first = k % 2 == 0 ? base : next;
    Side& second = k % 2 == 0 ? next : base;
    for (Side* side : {&first, &second}) {
      run_process(*side, dir, k, counted);
      if (!o.gate.quiet) {
        std::fprintf(stderr, "ab: %s process %d/%d%s\n", side->name.c_str(), k + 1, total,
                     counted ? "" : " (warm-up, not counted)");
      }
    }
    // After the first counted pair: if no cell of one side matches the other (two models without
    // --ignore model), more processes cannot change that; say so now, not after all of them.
    if (k == o.warmup_processes && nothing_matches(base, next, o.gate)) {
      if (!o.gate.quiet) std::fprintf(stderr, "ab: nothing matches after the first pair; stopping\n");
      return run_gate(side_report(base), side_report(next), o.gate);
    }
  }
  save_side(o.save_base, base, o.processes);
  save_side(o.save_new, next, o.processes);
  return run_gate(side_report(base), side_report(next), o.gate);
}

}  // namespace diffbench::cli
