// Comparing two reports: runs matched by configuration, a Mann-Whitney U test per metric
// (Mann & Whitney 1947), a verdict only when the change is both large and significant.
#include "diffbench/compare.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "diffbench/statistics.h"

namespace diffbench {
namespace {

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
      for (size_t u = 0; u < prev[j].size(); ++u) cur[j][u + j] += prev[j][u];   // last element from a
      for (size_t u = 0; u < cur[j - 1].size(); ++u) cur[j][u] += cur[j - 1][u];  // last element from b
    }
    prev = std::move(cur);
  }
  return prev[n];
}

}  // namespace

double mann_whitney_p(const std::vector<double>& a, const std::vector<double>& b) {
  const size_t m = a.size(), n = b.size();
  if (m == 0 || n == 0) return 1.0;
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
    double low = std::accumulate(counts.begin(), counts.begin() + k + 1, 0.0) / total;
    double high = std::accumulate(counts.begin() + k, counts.end(), 0.0) / total;
    return std::min(1.0, 2 * std::min(low, high));
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
  if (var <= 0) return 1.0;
  double z = std::max(0.0, std::abs(u - mean) - 0.5) / std::sqrt(var);
  return std::min(1.0, std::erfc(z / std::sqrt(2.0)));
}

double mann_whitney_min_p(size_t n_a, size_t n_b) {
  if (n_a == 0 || n_b == 0) return 1.0;
  std::vector<double> counts = u_distribution(n_a, n_b);
  return std::min(1.0, 2 * counts.front() / std::accumulate(counts.begin(), counts.end(), 0.0));
}

Comparison compare_reports(const Report& base, const Report& updated, double threshold, double alpha) {
  Comparison result;
  auto label = [](const nlohmann::json& run) {
    const auto& c = run["config"];
    std::string shape;
    for (const auto& d : c.value("shape", nlohmann::json::array())) shape += (shape.empty() ? "" : "x") + d.dump();
    return fmt::format("{} {} steps {} seed {}", c.value("sampler", "?"), c.value("steps", 0), shape, c.value("seed", 0));
  };
  std::map<std::string, const nlohmann::json*> base_runs, new_runs;
  for (const auto& run : base.runs) base_runs[cell_key(run["config"])] = &run;
  for (const auto& run : updated.runs) new_runs[cell_key(run["config"])] = &run;
  std::vector<double> log_ratios;
  for (const auto& run : base.runs) {
    std::string key = cell_key(run["config"]);
    auto other = new_runs.find(key);
    if (other == new_runs.end()) {
      result.only_in_base.push_back(label(run));
      continue;
    }
    RunChange change;
    change.label = label(run);
    for (const char* metric : {"total_s", "model_s", "sampler_s"}) {
      auto samples = [&](const nlohmann::json& r) {
        std::vector<double> v;
        if (r.contains("stats") && r["stats"].contains(metric)) v = r["stats"][metric].value("samples", std::vector<double>{});
        return v;
      };
      std::vector<double> a = samples(run), b = samples(*other->second);
      if (a.empty() || b.empty()) continue;
      MetricChange m;
      m.metric = metric;
      m.base_median = median(a);
      m.new_median = median(b);
      m.change = m.base_median > 0 ? m.new_median / m.base_median - 1 : 0.0;
      m.p_value = mann_whitney_p(a, b);
      bool significant = m.p_value < alpha;
      m.verdict = significant && m.change > threshold ? "slower" : significant && m.change < -threshold ? "faster" : "no change";
      if (m.metric == std::string("total_s")) {
        if (m.verdict == "slower") result.regression = true;
        if (m.base_median > 0 && m.new_median > 0) log_ratios.push_back(std::log(m.new_median / m.base_median));
      }
      change.metrics.push_back(m);
    }
    result.matched.push_back(change);
  }
  for (const auto& run : updated.runs) {
    if (!base_runs.count(cell_key(run["config"]))) result.only_in_new.push_back(label(run));
  }
  if (!log_ratios.empty()) {
    result.geomean_ratio = std::exp(std::accumulate(log_ratios.begin(), log_ratios.end(), 0.0) / double(log_ratios.size()));
  }
  for (const char* key : {"device", "device_name", "threads", "libtorch_version", "blas", "dtype", "cpu_model"}) {
    auto a = base.context.value(key, nlohmann::json()), b = updated.context.value(key, nlohmann::json());
    if (a != b) result.context_warnings.push_back(fmt::format("{}: {} vs {}", key, a.dump(), b.dump()));
  }
  return result;
}

}  // namespace diffbench
