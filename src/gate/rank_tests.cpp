// The rank tests the gate uses: Mann-Whitney U (Mann & Whitney 1947) for two independent
// samples, Wilcoxon signed-rank (Wilcoxon 1945) for pairs, each with both one-sided tails (the
// gate asks "slower?" and "faster?" as two one-sided questions), and the normal-approximation
// detectable change (80% power).
#include "diffbench/gate/rank_tests.h"
#include "diffbench/core/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace diffbench {
namespace {

// P(Z >= z) for a standard normal Z, at most 1 (continuity corrections can push z below 0).
double upper_normal_tail(double z) { return std::min(1.0, 0.5 * std::erfc(z / std::sqrt(2.0))); }

// Number of ways each U value arises for sizes (m, n): counts[u], u in [0, m n].
std::vector<double> u_distribution(size_t m, size_t n) {
  // f(m, n, u) = f(m - 1, n, u - n) + f(m, n - 1, u); built up over m with a table per n.
  std::vector<std::vector<double>> prev(n + 1);  // prev[j] = distribution for (i - 1, j)
  for (size_t j = 0; j <= n; ++j) prev[j] = {1.0};  // i = 0: U = 0 one way
  for (size_t i = 1; i <= m; ++i) {
    std::vector<std::vector<double>> cur(n + 1);
    cur[0] = {1.0};  // j = 0: U = 0 one way
    for (size_t j = 1; j <= n; ++j) {
      cur[j].assign(i * j + 1, 0.0);
      for (size_t u = 0; u < prev[j].size(); ++u) cur[j][u + j] += prev[j][u];  // last element from a
      for (size_t u = 0; u < cur[j - 1].size(); ++u) cur[j][u] += cur[j - 1][u];  // last element from b
    }
    prev = std::move(cur);
  }
  return prev[n];
}

}  // namespace

RankTails mann_whitney_tails(const std::vector<double>& a, const std::vector<double>& b) {
  const size_t m = a.size(), n = b.size();
  if (m == 0 || n == 0) return {};
  // U_a = number of pairs (x in a, y in b) with x > y, ties counting 1/2.
  double u = 0;
  for (double x : a) {
    for (double y : b) u += x > y ? 1.0 : x == y ? 0.5 : 0.0;
  }
  std::vector<double> all(a);
  all.insert(all.end(), b.begin(), b.end());
  std::sort(all.begin(), all.end());
  bool ties = std::adjacent_find(all.begin(), all.end()) != all.end();
  if (!ties && m * n <= 10000) {
    std::vector<double> counts = u_distribution(m, n);
    double total = std::accumulate(counts.begin(), counts.end(), 0.0);
    auto k = static_cast<size_t>(std::llround(u));
    // U counts a above b: few such pairs (a low tail) is evidence that b is the larger.
    double low = std::accumulate(counts.begin(), counts.begin() + k + 1, 0.0) / total;
    double high = std::accumulate(counts.begin() + k, counts.end(), 0.0) / total;
    return {high, low};
  }
  const double N = double(m + n), mean = double(m * n) / 2;
  double tie_term = 0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j] == all[i]) ++j;
    double t = double(j - i);
    tie_term += t * t * t - t;
    i = j;
  }
  double var = double(m * n) / 12.0 * ((N + 1) - tie_term / (N * (N - 1)));
  if (var <= 0) return {};
  return {upper_normal_tail((u - mean - 0.5) / std::sqrt(var)), upper_normal_tail((mean - u - 0.5) / std::sqrt(var))};
}

double mann_whitney_min_p(size_t n_a, size_t n_b) {
  if (n_a == 0 || n_b == 0) return 1.0;
  std::vector<double> counts = u_distribution(n_a, n_b);
  return std::min(1.0, counts.front() / std::accumulate(counts.begin(), counts.end(), 0.0));
}

RankTails wilcoxon_signed_rank_tails(const std::vector<double>& d) {
  std::vector<double> nonzero;
  for (double x : d) {
    if (x != 0) nonzero.push_back(x);
  }
  const size_t n = nonzero.size();
  if (n == 0) return {};
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t i, size_t j) { return std::abs(nonzero[i]) < std::abs(nonzero[j]); });
  std::vector<double> rank(n);  // average ranks of |d| (ties share the mean rank)
  bool ties = false;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && std::abs(nonzero[order[j]]) == std::abs(nonzero[order[i]])) ++j;
    ties = ties || j - i > 1;
    for (size_t k = i; k < j; ++k) rank[order[k]] = double(i + j + 1) / 2;
    i = j;
  }
  double w = 0, tie_term = 0;
  for (size_t i = 0; i < n; ++i) w += nonzero[i] > 0 ? rank[i] : 0.0;
  const double total = double(n) * double(n + 1) / 2;
  if (!ties && n <= 60) {  // exact: the number of subsets of {1..n} with each rank sum
    std::vector<double> counts(static_cast<size_t>(total) + 1, 0.0);
    counts[0] = 1;
    for (size_t r = 1; r <= n; ++r) {
      for (size_t v = counts.size() - 1; v >= r; --v) counts[v] += counts[v - r];
    }
    double all = std::pow(2.0, double(n));
    auto k = static_cast<size_t>(std::llround(w));
    double low = std::accumulate(counts.begin(), counts.begin() + k + 1, 0.0) / all;
    double high = std::accumulate(counts.begin() + k, counts.end(), 0.0) / all;
    return {low, high};  // W+ large: the differences lean positive
  }
  for (size_t i = 0; i < n;) {  // normal approximation with tie and continuity corrections
    size_t j = i;
    while (j < n && rank[order[j]] == rank[order[i]]) ++j;
    double t = double(j - i);
    tie_term += t * t * t - t;
    i = j;
  }
  double var = double(n) * double(n + 1) * double(2 * n + 1) / 24 - tie_term / 48;
  if (var <= 0) return {};
  return {upper_normal_tail((total / 2 - w - 0.5) / std::sqrt(var)),
          upper_normal_tail((w - total / 2 - 0.5) / std::sqrt(var))};
}

double detectable_change(const std::vector<double>& base, const std::vector<double>& updated, double base_median,
                         double alpha) {
  const double inf = std::numeric_limits<double>::infinity();
  if (base.size() < 2 || updated.size() < 2 || base_median <= 0) return inf;
  if (mann_whitney_min_p(base.size(), updated.size()) >= alpha) return inf;
  auto variance = [](const std::vector<double>& v) {
    double mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size()), ss = 0;
    for (double x : v) ss += (x - mean) * (x - mean);
    return ss / double(v.size() - 1);
  };
  double se = std::sqrt(variance(base) / double(base.size()) + variance(updated) / double(updated.size()));
  return (normal_upper_quantile(alpha) + normal_upper_quantile(0.2)) * se / base_median;
}

}  // namespace diffbench
