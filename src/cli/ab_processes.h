#pragma once
// Where `diffbench ab`'s blocks of measurements come from (BlockSource), each side's runs so far,
// and the source that runs each side as a process of its own per block.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/ab_command.h"
#include "diffbench/plans/recorded_run.h"

namespace diffbench::cli {

/// One side's runs so far, as report runs (each tagged with its block).
struct AbSide {
  std::string name;  ///< "base" or "new"
  std::vector<nlohmann::json> runs;  ///< as written to --save-base/--save-new
  std::vector<RecordedRun> recorded;  ///< the same runs typed: what the blocks are decided on
  nlohmann::json context;

  /// Append one run (both forms).
  void add(nlohmann::json run) {
    recorded.push_back(read_recorded_run(run, name + " side, block " + std::to_string(run.value("ab_block", -1))));
    runs.push_back(std::move(run));
  }
};

/// Where blocks come from. Block k runs base then new when k is even, new then base when it is
/// odd (A B B A ...: a linear drift hits both sides alike).
class BlockSource {
 public:
  virtual ~BlockSource() = default;
  /// "in-process" or "processes".
  virtual std::string mode() const = 0;
  /// Both sides run on one copy of the models (in one process, when they open the same ones).
  virtual bool shared_models() const { return false; }
  /// Run block k and append each side's runs (with "ab_block": k) to `base` / `next` (a warm-up
  /// block's go to sides the caller checks for failures and then drops).
  virtual void run_block(int k, AbSide& base, AbSide& next) = 0;
};

/// Both sides' flags as separate words: the shared ones after `--`, then --base-args / --new-args.
struct AbArgs {
  std::vector<std::string> base, next;
};
AbArgs ab_args(const AbOptions& o);

/// Each side a separate process per block (BIN FLAGS --json TMP --quiet).
std::unique_ptr<BlockSource> process_blocks(const AbOptions& o, const AbArgs& args);

}  // namespace diffbench::cli
