#pragma once
// `ab`'s decision loop: both sides measured block by block (A B B A ...: block k runs base first
// when k is even), each cell's log ratio of one block's figures added to its sequential test,
// looked at on the schedule of gate/sequential.h, until every cell is decided, the budget runs out
// or the block limit is reached. Where blocks come from is a BlockSource: both sides in this
// process (app/ab_inprocess.h) or one process per side per block (the CLI's).
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "diffbench/gate/ab_report.h"
#include "diffbench/plans/recorded_run.h"
#include "diffbench/plans/sweep.h"

namespace diffbench {

/// One side's runs so far, as report runs (each tagged with its block).
struct AbSide {
  std::string name;  ///< "base" or "new"
  std::vector<nlohmann::json> runs;  ///< as a report holds them (what --save-base/--save-new write)
  std::vector<RecordedRun> recorded;  ///< the same runs typed: what the blocks are decided on
  nlohmann::json context;

  /// Append one run (both forms).
  void add(nlohmann::json run) {
    recorded.push_back(read_recorded_run(run, name + " side, block " + std::to_string(run.value("ab_block", -1))));
    runs.push_back(std::move(run));
  }
};

/// Where blocks come from.
class BlockSource {
 public:
  virtual ~BlockSource() = default;
  /// "in-process" or "processes".
  virtual std::string mode() const = 0;
  /// Both sides run on one copy of the models (in one process, when they open the same ones).
  virtual bool shared_models() const { return false; }
  /// Run block k and append each side's runs (with "ab_block": k) to `base` / `next` (a warm-up
  /// block's go to sides the loop checks for failures and then drops).
  virtual void run_block(int k, AbSide& base, AbSide& next) = 0;
};

/// What the loop is asked: its budget and the test's settings.
struct AbPlan {
  double budget_s = 300;  ///< wall time in all, loading and warm-up included
  int max_blocks = 1000;  ///< counted blocks at most
  int warmup_blocks = 1;  ///< uncounted blocks first (first forward calls, cold caches)
  double alpha = 0.02;  ///< false "slower" at most this often, split over the cells
  double threshold = 0.05;  ///< a change within +-this is no change (a fraction)
  std::vector<std::string> ignore;  ///< cell-identity groups matched across (compare's)
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();  ///< the budget's start
};

/// Why the loop ended.
struct AbStop {
  enum Kind { finished, failed_base, failed_new, cells_differ } kind = finished;
  std::string why;  ///< what failed or differs ("" when finished)
};

/// The side as a report `compare` reads (in memory).
Report ab_side_report(const AbSide& side);

/// Runs `plan` over `source` into `r` (mode, cells, looks, verdicts) and the sides' runs into
/// `base`/`next` (kept when a signal throws Interrupted: what was measured is the caller's to
/// save). `progress` is called after every counted block. finished: every cell decided, or the
/// budget or block limit reached (r.budget_out; cells never looked at carry the median change and
/// unbounded limits). UsageError when the first block shows the cells need more blocks than allowed.
AbStop run_ab_blocks(BlockSource& source, const AbPlan& plan, AbSide& base, AbSide& next, AbResult& r,
                     const std::function<void(const AbResult&)>& progress = {});

/// The verdict over the cells: slower when any cell is, undecided when any cell is, else not slower.
SequentialVerdict ab_verdict(const AbResult& r);

}  // namespace diffbench
