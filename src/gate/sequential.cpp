// The sequential gate's statistics: the signed-rank interval (Hodges & Lehmann 1963) and the
// alpha-spending schedule of the looks (see sequential.h).
#include "diffbench/gate/sequential.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>

namespace diffbench {

std::vector<double> signed_rank_cdf(int n) {
  const auto total = static_cast<size_t>(n) * static_cast<size_t>(n + 1) / 2;
  std::vector<double> cdf(total + 1, 0.0);
  if (n > 400) {  // normal approximation with continuity correction
    const double mean = double(total) / 2, sd = std::sqrt(double(n) * (n + 1) * (2.0 * n + 1) / 24);
    for (size_t t = 0; t <= total; ++t) cdf[t] = 0.5 * std::erfc(-(double(t) + 0.5 - mean) / (sd * std::sqrt(2.0)));
    return cdf;
  }
  std::vector<double> p(total + 1, 0.0);  // P(T+ = v) over ranks 1..r, built up r by r
  p[0] = 1;
  size_t top = 0;
  for (size_t r = 1; r <= static_cast<size_t>(n); ++r) {
    top += r;
    for (size_t v = top; v >= 1; --v) p[v] = 0.5 * (p[v] + (v >= r ? p[v - r] : 0.0));
    p[0] *= 0.5;
  }
  double run = 0;
  for (size_t t = 0; t <= total; ++t) cdf[t] = run += p[t];
  return cdf;
}

namespace {

// The sequential test asks for the same n at every look of every cell: each is computed once
// (n <= 200 kept: about 10 MB at most).
const std::vector<double>& cached_cdf(int n) {
  static std::mutex mutex;
  static std::map<int, std::vector<double>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  if (n > 200) {
    thread_local std::vector<double> last;
    last = signed_rank_cdf(n);
    return last;
  }
  return cache.emplace(n, signed_rank_cdf(n)).first->second;
}

}  // namespace

ShiftInterval signed_rank_interval(const std::vector<double>& x, double level) {
  const double inf = std::numeric_limits<double>::infinity();
  const size_t n = x.size();
  if (n == 0) return {0, -inf, inf};
  std::vector<double> walsh;  // the n(n+1)/2 pairwise means: T+(x - theta) counts those above theta
  walsh.reserve(n * (n + 1) / 2);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i; j < n; ++j) walsh.push_back((x[i] + x[j]) / 2);
  }
  const size_t m = walsh.size();
  auto order = [&](size_t i) {  // the i-th smallest (0-based), without sorting all of them
    std::nth_element(walsh.begin(), walsh.begin() + static_cast<std::ptrdiff_t>(i), walsh.end());
    return walsh[i];
  };
  const double estimate = m % 2 ? order(m / 2) : (order(m / 2 - 1) + order(m / 2)) / 2;
  // P(W_(k) > theta) = P(T+ <= k - 1): the largest k with that at most `level` gives the bound.
  const std::vector<double>& cdf = cached_cdf(static_cast<int>(n));
  size_t k = 0;
  while (k < cdf.size() && cdf[k] <= level) ++k;
  if (k == 0) return {estimate, -inf, inf};
  return {estimate, order(k - 1), order(m - k)};
}

const char* sequential_verdict_name(SequentialVerdict v) {
  switch (v) {
    case SequentialVerdict::slower: return "slower";
    case SequentialVerdict::faster: return "faster";
    case SequentialVerdict::not_slower: return "not slower";
    case SequentialVerdict::undecided: break;
  }
  return "undecided";
}

int look_blocks(int j, int first_look) {
  int n = first_look;
  for (int i = 1; i < j; ++i) n = std::max(n + 1, static_cast<int>(std::lround(n * 1.25)));
  return n;
}

double look_level(double alpha, int j) { return alpha / (double(j) * double(j + 1)); }

int smallest_first_look(double alpha) {
  int n = 1;
  while (std::ldexp(1.0, -n) > look_level(alpha, 1)) ++n;
  return n;
}

SequentialSettings cell_settings(double alpha, int cells, double threshold) {
  SequentialSettings s;
  s.threshold = threshold;
  s.alpha = alpha / double(std::max(1, cells));
  s.first_look = std::max(6, smallest_first_look(s.alpha));
  return s;
}

bool look_due(int blocks, int look, int first_look, bool last) {
  return blocks == look_blocks(look, first_look) || (last && blocks >= first_look);
}

SequentialLook sequential_look(const std::vector<double>& log_ratios, int j, const SequentialSettings& s) {
  SequentialLook look;
  look.look = j;
  look.n = static_cast<int>(log_ratios.size());
  look.level = look_level(s.alpha, j);
  const ShiftInterval i = signed_rank_interval(log_ratios, look.level);
  look.change = std::expm1(i.estimate);
  look.low = std::expm1(i.low);  // expm1(-inf) = -1: "no lower bound" reads as -100%
  look.high = std::expm1(i.high);
  if (look.low > 0 && look.change > s.threshold)
    look.verdict = SequentialVerdict::slower;
  else if (look.high < 0 && look.change < -s.threshold)
    look.verdict = SequentialVerdict::faster;
  else if (look.high < s.threshold)
    look.verdict = SequentialVerdict::not_slower;
  return look;
}

}  // namespace diffbench
