#pragma once
// `diffbench merge` and `diffbench compare`.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/gate.h"

namespace diffbench::cli {

/// `diffbench merge A.json B.json ... -o ALL.json`: join shards.
struct MergeOptions {
  std::vector<std::string> inputs;
  std::string output;
  bool force = false;
  bool allow_missing = false;  ///< accept shards that leave cells of their grid out
};
void setup_merge(CLI::App& app, MergeOptions& options);
int run_merge(const MergeOptions& options);

/// `diffbench compare BASE NEW`: a CI regression gate.
struct CompareOptions {
  std::string base, updated;
  GateOptions gate;
};
void setup_compare(CLI::App& app, CompareOptions& options);
int run_compare(const CompareOptions& options);

}  // namespace diffbench::cli
