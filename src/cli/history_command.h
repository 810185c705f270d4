#pragma once
// `diffbench history`.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace diffbench::cli {

/// `diffbench history FILE|DIR ...`: change points over a branch's reports; exit 3 when the
/// newest report starts a slowdown.
struct HistoryOptions {
  std::vector<std::string> inputs;
  std::string ignore, json;
  double alpha = 0.01, threshold = 2.0;  ///< threshold: percent
  bool quiet = false;
};
void setup_history(CLI::App& app, HistoryOptions& options);
int run_history(const HistoryOptions& options);

}  // namespace diffbench::cli
