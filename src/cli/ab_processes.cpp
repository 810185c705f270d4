// `ab` between processes: each block is one process per side (BIN FLAGS --json TMP --quiet),
// so the level of a whole process is part of each block's figure. The mode for two binaries.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "cli/ab_processes.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/files.h"
#include "diffbench/core/parse.h"
#include "diffbench/measure/stop.h"

extern char** environ;

namespace diffbench::cli {
namespace {

std::string self_path() {
  char exe[4096] = {};
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  return n > 0 ? std::string(exe, static_cast<size_t>(n)) : "diffbench";
}

// The child's exit code, or an error carrying the last line it wrote to stderr.
void check_child(int status, const std::string& side, const std::string& bin, const std::string& err) {
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (code == 0) return;
  std::string text = read_file(err, "stderr");
  std::string last = text.substr(text.rfind('\n', text.size() >= 2 ? text.size() - 2 : 0) + 1);
  while (!last.empty() && last.back() == '\n') last.pop_back();
  if (WIFSIGNALED(status)) last = fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  std::string what = fmt::format("ab: the {} process ({}) exited with code {}: {}", side, bin, code, last);
  if (code == kExitUsage) throw UsageError(what);
  if (side == "new") throw FailedRunError(what + "; a failed new side never passes the gate");  // #42: was exit 1
  throw RuntimeError(what);
}

class ProcessBlocks : public BlockSource {
 public:
  ProcessBlocks(const AbOptions& o, const AbArgs& args) : args_(args) {
    bins_[0] = o.base_bin.empty() ? self_path() : o.base_bin;
    bins_[1] = o.new_bin.empty() ? self_path() : o.new_bin;
    char dir_template[] = "/tmp/diffbench-ab-XXXXXX";
    if (!mkdtemp(dir_template)) throw RuntimeError("ab: cannot create a temporary directory in /tmp");
    dir_ = dir_template;
  }
  ~ProcessBlocks() override { std::system(("rm -rf '" + dir_ + "'").c_str()); }
  std::string mode() const override { return "processes"; }

  void run_block(int k, AbSide& base, AbSide& next) override {
    for (int i = 0; i < 2; ++i) {
      AbSide& side = (k % 2 == 0) == (i == 0) ? base : next;
      run_process(side, side.name == "base" ? 0 : 1, k);
    }
  }

 private:
  void run_process(AbSide& side, int which, int k) {
    const std::string json = fmt::format("{}/{}-{}.json", dir_, side.name, k);
    const std::string err = fmt::format("{}/{}-{}.err", dir_, side.name, k);
    std::vector<std::string> argv = {bins_[which]};
    const auto& words = which == 0 ? args_.base : args_.next;
    argv.insert(argv.end(), words.begin(), words.end());
    for (const char* w : {"--json", json.c_str(), "--quiet"}) argv.emplace_back(w);
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, bins_[which].c_str(), &actions, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      throw UsageError(
          fmt::format("ab: cannot run the {} binary '{}': {}", side.name, bins_[which], std::strerror(rc)));
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) throw RuntimeError(fmt::format("ab: waiting for the {} process failed", side.name));
      if (stop_requested()) kill(pid, SIGTERM);
    }
    if (stop_requested()) throw Interrupted(stop_requested());
    check_child(status, side.name, bins_[which], err);
    if (access(json.c_str(), F_OK) != 0) {  // #42: was exit 2 naming the temporary path
      const std::string what = fmt::format("ab: the {} process ({}) exited 0 but wrote no report", side.name, bins_[which]);
      if (which == 1) throw FailedRunError(what + "; a failed new side never passes the gate");
      throw RuntimeError(what);
    }
    Report report = read_report(json);
    if (side.context.is_null()) side.context = report.context;
    for (auto& run : report.runs) {
      run["process"]["pair"] = k;  // `compare` on the saved sides tests each pair's ratio
      run["ab_block"] = k;
      side.add(std::move(run));
    }
  }

  AbArgs args_;
  std::string bins_[2];
  std::string dir_;
};

}  // namespace

AbArgs ab_args(const AbOptions& o) {
  AbArgs a{o.args, o.args};
  for (const auto& w : split_shell_words(o.base_args, "--base-args")) a.base.push_back(w);
  for (const auto& w : split_shell_words(o.new_args, "--new-args")) a.next.push_back(w);
  return a;
}

std::unique_ptr<BlockSource> process_blocks(const AbOptions& o, const AbArgs& args) {
  return std::make_unique<ProcessBlocks>(o, args);
}

}  // namespace diffbench::cli
