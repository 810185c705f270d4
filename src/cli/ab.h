#pragma once
// `diffbench ab`'s parts: where a block of measurements comes from (two processes, or both sides
// in this process) and the sequential verdict's outputs.
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "diffbench/plans/recorded_run.h"
#include "diffbench/gate/sequential.h"

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
/// Both sides in this process, their models loaded again every `reload` blocks (0: once);
/// nullptr (and `*why`) when the sides cannot share a process (different threads, interop threads,
/// device or --pin: settings of the process).
std::unique_ptr<BlockSource> inprocess_blocks(const AbArgs& args, int reload, std::string* why);

/// One cell's sequential test.
struct AbCell {
  std::string label;
  std::vector<double> base_s, new_s, log_ratios;  ///< one figure per counted block
  std::vector<SequentialLook> looks;
  SequentialLook decided;  ///< the look that decided (or the last one)
};

/// The whole verdict of one `ab`.
struct AbResult {
  std::string mode;
  int blocks = 0;
  double elapsed_s = 0, budget_s = 0;
  int max_blocks = 0;
  SequentialSettings settings;  ///< alpha here is each cell's share
  double alpha = 0.05;  ///< the whole run's error rate (split over the cells)
  bool budget_out = false;
  int runs = 0, contended = 0;  ///< counted runs, and those measured under contention (contention.h)
  std::vector<AbCell> cells;
  std::vector<std::string> context_warnings;
};

std::string ab_console(const AbResult& r);
std::string ab_markdown(const AbResult& r);
nlohmann::json ab_json(const AbResult& r);

}  // namespace diffbench::cli
