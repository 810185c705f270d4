// Descriptive statistics: quantiles by linear interpolation (Hyndman & Fan type 7, numpy's
// default) and a distribution-free confidence interval for the median from order statistics.
#include "diffbench/core/statistics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace diffbench {

double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0.0;
  double pos = q * double(sorted.size() - 1);
  auto low = static_cast<size_t>(std::floor(pos));
  size_t high = std::min(low + 1, sorted.size() - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (pos - double(low));
}

double sum(const std::vector<double>& values) { return std::accumulate(values.begin(), values.end(), 0.0); }

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return quantile(values, 0.5);
}

MedianInterval median_interval(const std::vector<double>& sorted, double level) {
  const size_t n = sorted.size();
  if (n == 0) return {0, 0, 0};
  // P(x_(k) <= median <= x_(n+1-k)) = 1 - 2 P(Binomial(n, 1/2) <= k - 1).
  std::vector<double> cdf(n + 1);
  double term = std::pow(0.5, double(n)), sum = 0;
  for (size_t i = 0; i <= n; ++i) {
    sum += term;
    cdf[i] = sum;
    term = term * double(n - i) / double(i + 1);
  }
  MedianInterval best{sorted.front(), sorted.back(), n >= 2 ? 1 - 2 * cdf[0] : 0.0};
  for (size_t k = 2; k <= n / 2; ++k) {
    double coverage = 1 - 2 * cdf[k - 1];
    if (coverage < level) break;
    best = {sorted[k - 1], sorted[n - k], coverage};
  }
  return best;
}

Summary summarize(const std::vector<double>& samples) {
  Summary s;
  s.samples = samples;
  s.n = samples.size();
  if (s.n == 0) return s;
  std::vector<double> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  s.mean = std::accumulate(sorted.begin(), sorted.end(), 0.0) / double(s.n);
  double ss = 0;
  for (double v : sorted) ss += (v - s.mean) * (v - s.mean);
  s.stddev = s.n > 1 ? std::sqrt(ss / double(s.n - 1)) : 0.0;
  s.min = sorted.front();
  s.max = sorted.back();
  s.median = quantile(sorted, 0.5);
  s.q1 = quantile(sorted, 0.25);
  s.q3 = quantile(sorted, 0.75);
  s.iqr = s.q3 - s.q1;
  s.cv = s.mean != 0 ? s.stddev / s.mean : 0.0;
  MedianInterval ci = median_interval(sorted);
  s.ci_low = ci.low;
  s.ci_high = ci.high;
  s.ci_level = ci.coverage;
  s.noisy = s.median > 0 && s.iqr / s.median > 0.10;
  return s;
}

double normal_upper_quantile(double p) {
  double low = -40, high = 40;  // 0.5 erfc(z / sqrt 2) falls from 1 to 0 as z rises
  for (int i = 0; i < 200; ++i) {
    double mid = (low + high) / 2;
    (0.5 * std::erfc(mid / std::sqrt(2.0)) > p ? low : high) = mid;
  }
  return (low + high) / 2;
}

}  // namespace diffbench
