#pragma once
/// `diffbench compare` and `diffbench ab`: matching runs of two reports and deciding "slower" only
/// when the data can say so, with the noise between processes counted when it was measured.
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "diffbench/gate/rank_tests.h"
#include "diffbench/plans/sweep.h"

namespace diffbench {

/// How the compare gate decides. "slower" and "faster" are two one-sided questions, each tested
/// at `alpha`: the chance of a false "slower" when nothing changed is at most alpha.
struct CompareSettings {
  double threshold = 0.05;  ///< a change smaller than this fraction is "no change"
  double alpha = 0.05;  ///< significance level of each one-sided test
  std::vector<std::string> ignore;  ///< cell-identity groups left out of matching (ignorable_key_groups)
};

/// What the gate concludes for one metric: a change beyond the threshold that is significant
/// (slower, faster), none, or no conclusion possible with these sample sizes (min_p >= alpha).
enum class Verdict { slower, faster, no_change, undecidable };
/// "slower", "faster", "no change", "undecidable": the spelling of the tables and the JSON.
const char* verdict_name(Verdict v);

/// One metric of one matched run.
struct MetricChange {
  std::string metric;  ///< "total_s", "model_s", "sampler_s"
  double base_median = 0, new_median = 0;
  /// new/base - 1, one definition everywhere: the median of the pairs' ratios for `ab` pairs (drift
  /// between pairs cancels, so it can differ from new_median / base_median), else the ratio of the medians
  double change = 0;
  double p_value = 1;  ///< one-sided, in the direction of `change` (slower: the "greater" tail)
  size_t n_base = 0, n_new = 0;  ///< figures tested: processes, or repeats of one process
  double min_p = 1;  ///< the smallest one-sided p-value these sizes can give
  double detectable = 0;  ///< see detectable_change (a fraction; infinity: nothing detectable)
  Verdict verdict = Verdict::undecidable;
};

/// A cell present in both reports.
struct RunChange {
  std::string label;  ///< "ddim 50 steps 1x4x32x32 seed 0"
  size_t base_processes = 0, new_processes = 0;
  bool per_process = false;  ///< tested on one figure per process (both sides >= 2)
  bool paired = false;  ///< `ab` pairs: Wilcoxon signed-rank on each pair's log ratio
  std::vector<std::string> differences;  ///< config fields that differ (only those --ignore allowed)
  std::vector<MetricChange> metrics;
};

struct Comparison {
  std::vector<RunChange> matched;
  std::vector<std::string> only_in_base, only_in_new;  ///< labels
  /// New-side runs that failed, went non-finite or were interrupted ("label (status)"): the gate
  /// fails on them whatever else it decides (a failed run must never pass).
  std::vector<std::string> failed_in_new;
  /// Matched runs measured under contention ("new: label: why"): their figures may be the machine's,
  /// not the change's. Listed; the verdict is not changed by them.
  std::vector<std::string> suspect;
  std::vector<std::string> context_warnings;  ///< "threads: 2 vs 1", ...
  std::vector<std::string> notes;  ///< what the reader must know to trust a verdict
  /// Cells whose "slower" rested on one process per side within kBetweenProcessAllowance, or on a
  /// side measured under contention ("label: +8.5%: why"): undecided instead, and the gate with them.
  std::vector<std::string> held_back;
  double geomean_ratio = 1;  ///< geometric mean of 1 + change of the total_s rows
  bool regression = false;  ///< some total_s verdict is "slower"
  bool failed = false;  ///< failed_in_new is not empty
  bool decided = false;  ///< some total_s verdict is not "undecidable"
};

/// How much slower one process per side must be before `compare` calls it slower: one process's
/// level is not noise its own repeats can show, and this VM's level moves by 20% and more over an
/// hour (docs/measurement.md); `ab`, which interleaves both sides, needs no such allowance.
constexpr double kBetweenProcessAllowance = 0.25;

/// Compare two reports. Runs with the same cell_key (less `settings.ignore`) are matched; runs
/// of one cell from several processes (process.id) are tested on one median per process.
Comparison compare_reports(const Report& base, const Report& updated, const CompareSettings& settings);

}  // namespace diffbench
