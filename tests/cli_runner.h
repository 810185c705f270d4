#pragma once
// Running the real diffbench binary from a test: exit code, stdout, stderr.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace diffbench::testing {

struct CliResult {
  int code = -1;
  std::string out, err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// A fresh scratch directory for one test.
inline std::string scratch_dir(const std::string& name) {
  std::string dir = "/tmp/diffbench_test_" + std::to_string(getpid()) + "_" + name;
  std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str());
  return dir;
}

/// Run `binary <args>` (args are shell words) and capture everything.
inline CliResult run_cli_binary(const std::string& binary, const std::string& args) {
  static int counter = 0;
  std::string base = "/tmp/diffbench_cli_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  std::string cmd = binary + " " + args + " > " + base + ".out 2> " + base + ".err";
  int status = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".err");
  std::remove((base + ".out").c_str());
  std::remove((base + ".err").c_str());
  return r;
}

/// Run `diffbench <args>` (args are shell words) and capture everything. DIFFBENCH_TEST_BIN, when
/// set, names another binary: the way to show that a test fails on an older build.
inline CliResult run_cli(const std::string& args) {
  const char* other = std::getenv("DIFFBENCH_TEST_BIN");
  return run_cli_binary(other && *other ? other : DIFFBENCH_BIN, args);
}

inline const std::string kModels = DIFFBENCH_SOURCE_DIR "/models/";
inline const std::string kData = DIFFBENCH_SOURCE_DIR "/tests/data/";
/// The tiny model, one counted run, no warm-up, one thread (ctest runs tests in parallel; two
/// OpenMP pools on 2 cores spin against each other): fast enough for every CLI test.
inline const std::string kTiny = "--unet " + kModels + "tiny.pt --warmup 0 --repeat 1 --threads 1 -q ";
/// `sweep` on the tiny model, quiet, one repeat, no warm-up.
inline const std::string kSweep = "sweep --unet " + kModels + "tiny.pt --warmup 0 --repeat 1 --threads 1 -q ";

}  // namespace diffbench::testing
