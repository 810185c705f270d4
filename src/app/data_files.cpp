// Where the shipped models and configs are found (see data_files.h).
#include "diffbench/app/data_files.h"

#include <unistd.h>

#include <cstdio>
#include <vector>

namespace diffbench {

namespace {

// Most specific first: an installed tree (bin/../share/diffbench), a build directory inside the
// source tree (build/..), then the source tree this binary was built from.
std::vector<std::string> data_dirs() {
  std::vector<std::string> dirs;
  char exe[4096] = {};
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    std::string dir(exe, static_cast<size_t>(n));
    dir = dir.substr(0, dir.rfind('/'));
    dirs.push_back(dir + "/../share/diffbench");
    dirs.push_back(dir + "/..");
  }
  dirs.push_back(DIFFBENCH_SOURCE_DIR);
  return dirs;
}

bool readable(const std::string& path) { return access(path.c_str(), R_OK) == 0; }

}  // namespace

std::string shipped_file(const std::string& relative) {
  for (const std::string& dir : data_dirs()) {
    if (readable(dir + "/" + relative)) return dir + "/" + relative;
  }
  return "";
}

std::string input_path(const std::string& given, const char* flag, bool quiet) {
  if (given.empty() || given.front() == '/' || readable(given)) return given;
  const std::string shipped = shipped_file(given);
  if (shipped.empty()) return given;
  if (!quiet) {
    std::fprintf(stderr, "note: %s %s: not in the working directory; using the one shipped with diffbench: %s\n", flag,
                 given.c_str(), shipped.c_str());
  }
  return shipped;
}

std::string default_model_path() {
  // The trained digit teacher: its manifest names its VAE, conditioning and quality files
  // (docs/models.md), so the default run draws real digits and --quality fd works with no flags.
  const std::string model = "models/digits/unet.pt";
  const std::string shipped = shipped_file(model);
  return shipped.empty() ? std::string(DIFFBENCH_SOURCE_DIR) + "/" + model : shipped;
}

}  // namespace diffbench
