#pragma once
/// `diffbench compare`: matching runs of two reports and deciding "slower" only when it is true.
#include <string>
#include <vector>

#include "diffbench/sweep.h"

namespace diffbench {

/// Two-sided p-value of the Mann-Whitney U test for samples a and b: exact (the U distribution
/// by dynamic programming) without ties and for n_a * n_b <= 10,000; otherwise the normal
/// approximation with tie correction and continuity correction.
double mann_whitney_p(const std::vector<double>& a, const std::vector<double>& b);

/// The smallest two-sided p-value the exact test can reach with these sample sizes.
double mann_whitney_min_p(size_t n_a, size_t n_b);

/// One metric of one matched run.
struct MetricChange {
  std::string metric;        ///< "total_s", "model_s", "sampler_s"
  double base_median = 0, new_median = 0;
  double change = 0;         ///< new / base - 1
  double p_value = 1;
  std::string verdict;       ///< "slower", "faster", "no change"
};

/// A run present in both reports.
struct RunChange {
  std::string label;         ///< "ddim 50 steps 1x4x32x32 seed 0"
  std::vector<MetricChange> metrics;
};

struct Comparison {
  std::vector<RunChange> matched;
  std::vector<std::string> only_in_base, only_in_new;  ///< labels
  std::vector<std::string> context_warnings;          ///< "threads: 2 vs 1", ...
  double geomean_ratio = 1;                           ///< geometric mean of new/base total medians
  bool regression = false;                            ///< some total_s verdict is "slower"
};

/// Compare; `threshold` is a fraction (0.05 = 5%), `alpha` the significance level.
Comparison compare_reports(const Report& base, const Report& updated, double threshold, double alpha);

}  // namespace diffbench
