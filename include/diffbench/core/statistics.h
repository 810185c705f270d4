#pragma once
/// Descriptive statistics for timing samples.
#include <cstddef>
#include <vector>

namespace diffbench {

/// Summary of one timed quantity. Quantiles use linear interpolation (numpy's default).
struct Summary {
  size_t n = 0;
  double mean = 0, median = 0, stddev = 0;  ///< stddev: sample standard deviation (n - 1)
  double min = 0, max = 0, q1 = 0, q3 = 0, iqr = 0;
  double cv = 0;  ///< stddev / mean
  double ci_low = 0, ci_high = 0;  ///< distribution-free interval for the median
  double ci_level = 0;  ///< its exact coverage (>= 0.95 when n >= 6)
  bool noisy = false;  ///< IQR / median above 10%: too spread to trust
  std::vector<double> samples;  ///< the raw samples, in measurement order
};

/// Quantile q in [0, 1] of sorted values, interpolating linearly between order statistics.
double quantile(const std::vector<double>& sorted, double q);

/// Sum of values (0 for none).
double sum(const std::vector<double>& values);

/// Median of values (mean of the two middle ones for even n).
double median(std::vector<double> values);

/// Order-statistic confidence interval for the median: the narrowest symmetric pair
/// (x_(k), x_(n+1-k)) whose binomial coverage is at least `level`; with too few
/// samples, [min, max] and its actual coverage. Returns {low, high, coverage}.
struct MedianInterval {
  double low, high, coverage;
};
MedianInterval median_interval(const std::vector<double>& sorted, double level = 0.95);

/// All of the above for one set of samples (empty input gives n = 0).
Summary summarize(const std::vector<double>& samples);

/// z with P(Z > z) = p for a standard normal Z (0 < p < 1).
double normal_upper_quantile(double p);

}  // namespace diffbench
