// Comparing two reports: runs matched by configuration, a Mann-Whitney U test per metric
// (Mann & Whitney 1947), a verdict only when the change is both large and significant.
#include "diffbench/compare.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
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

double normal_upper_quantile(double p) {
  double low = -40, high = 40;  // 0.5 erfc(z / sqrt 2) falls from 1 to 0 as z rises
  for (int i = 0; i < 200; ++i) {
    double mid = (low + high) / 2;
    (0.5 * std::erfc(mid / std::sqrt(2.0)) > p ? low : high) = mid;
  }
  return (low + high) / 2;
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
  return (normal_upper_quantile(alpha / 2) + normal_upper_quantile(0.2)) * se / base_median;
}

namespace {

// The runs of one cell on one side, grouped by the process that measured them.
struct CellRuns {
  const nlohmann::json* first = nullptr;
  std::map<std::string, std::vector<const nlohmann::json*>> by_process;
};

std::string run_label(const nlohmann::json& run) {
  const auto& c = run["config"];
  std::string shape;
  for (const auto& d : c.value("shape", nlohmann::json::array())) shape += (shape.empty() ? "" : "x") + d.dump();
  return fmt::format("{} {} steps {} seed {}", c.value("sampler", "?"), c.value("steps", 0), shape,
                     c.value("seed", nlohmann::json(0)).dump());
}

std::map<std::string, CellRuns> group(const Report& report, const std::vector<std::string>& ignore,
                                      std::vector<std::string>* order, std::vector<std::string>* not_ok) {
  std::map<std::string, CellRuns> cells;
  for (const auto& run : report.runs) {
    if (run.value("status", "ok") != "ok") {  // a failed or interrupted run has nothing to compare
      not_ok->push_back(fmt::format("{} ({})", run_label(run), run.value("status", "?")));
      continue;
    }
    std::string key = cell_key(run.value("config", nlohmann::json::object()), ignore);
    CellRuns& cell = cells[key];
    if (!cell.first) {
      cell.first = &run;
      order->push_back(key);
    }
    // Files written before runs carried a process id: each file is one process.
    std::string process = run.contains("process") ? run["process"].value("id", report.path) : report.path;
    cell.by_process[process].push_back(&run);
  }
  return cells;
}

std::vector<double> samples_of(const std::vector<const nlohmann::json*>& runs, const char* metric) {
  std::vector<double> v;
  for (const auto* r : runs) {
    if (!r->contains("stats") || !(*r)["stats"].contains(metric)) continue;
    for (double x : (*r)["stats"][metric].value("samples", std::vector<double>{})) v.push_back(x);
  }
  return v;
}

MetricChange test_metric(const char* metric, const CellRuns& base, const CellRuns& updated, bool per_process,
                         const CompareSettings& s) {
  // The figures tested: one median per process, or every repeat of the one process per side.
  auto figures = [&](const CellRuns& cell) {
    std::vector<double> out;
    for (const auto& [process, runs] : cell.by_process) {
      std::vector<double> v = samples_of(runs, metric);
      if (per_process && !v.empty()) out.push_back(median(v));
      if (!per_process) out.insert(out.end(), v.begin(), v.end());
    }
    return out;
  };
  std::vector<double> a = figures(base), b = figures(updated);
  MetricChange m;
  m.metric = metric;
  m.n_base = a.size();
  m.n_new = b.size();
  if (a.empty() || b.empty()) return m;
  m.base_median = median(a);
  m.new_median = median(b);
  m.change = m.base_median > 0 ? m.new_median / m.base_median - 1 : 0.0;
  m.p_value = mann_whitney_p(a, b);
  m.min_p = mann_whitney_min_p(a.size(), b.size());
  m.detectable = detectable_change(a, b, m.base_median, s.alpha);
  bool significant = m.p_value < s.alpha;
  m.verdict = m.min_p >= s.alpha                            ? "undecidable"
              : significant && m.change > s.threshold       ? "slower"
              : significant && m.change < -s.threshold      ? "faster"
                                                            : "no change";
  return m;
}

void compare_contexts(const Report& base, const Report& updated, Comparison* result) {
  if (base.schema_version != updated.schema_version) {
    result->context_warnings.push_back(fmt::format("schema_version: {} vs {} (re-measure the older side: cells of "
                                                   "different versions do not match)",
                                                   base.schema_version, updated.schema_version));
  }
  const nlohmann::json none = nlohmann::json::object();
  const nlohmann::json& ca = base.context.is_object() ? base.context : none;
  const nlohmann::json& cb = updated.context.is_object() ? updated.context : none;
  for (const char* key : {"host", "cpu_model", "cores", "os", "device", "device_name", "threads", "dtype", "blas",
                          "libtorch_version", "build_type", "compiler"}) {
    auto a = ca.value(key, nlohmann::json()), b = cb.value(key, nlohmann::json());
    if (a != b) result->context_warnings.push_back(fmt::format("{}: {} vs {}", key, a.dump(), b.dump()));
  }
}

// An unmatched base cell that differs from an unmatched new cell only in ignorable fields: say
// which, so the user can decide whether comparing across them is what they meant.
void suggest_ignores(const std::map<std::string, CellRuns>& base, const std::map<std::string, CellRuns>& updated,
                     Comparison* result) {
  for (const auto& [key, a] : base) {
    if (updated.count(key)) continue;
    for (const auto& [other_key, b] : updated) {
      if (base.count(other_key)) continue;
      std::set<std::string> groups;
      bool ignorable = true;
      for (const auto& field : config_differences((*a.first)["config"], (*b.first)["config"])) {
        std::string group = ignorable_group_of(field);
        ignorable = ignorable && !group.empty();
        groups.insert(group);
      }
      if (!ignorable || groups.empty()) continue;
      std::string list;
      for (const auto& g : groups) list += (list.empty() ? "" : ",") + g;
      result->notes.push_back(fmt::format("'{}' differs from '{}' only in {}: `--ignore {}` compares them (and says so)",
                                          run_label(*a.first), run_label(*b.first), list, list));
      break;
    }
  }
}

}  // namespace

Comparison compare_reports(const Report& base, const Report& updated, const CompareSettings& s) {
  Comparison result;
  std::vector<std::string> base_order, new_order;
  auto base_cells = group(base, s.ignore, &base_order, &result.only_in_base);
  auto new_cells = group(updated, s.ignore, &new_order, &result.only_in_new);
  std::vector<double> log_ratios;
  bool any_single = false;
  for (const auto& key : base_order) {
    const CellRuns& a = base_cells[key];
    auto other = new_cells.find(key);
    if (other == new_cells.end()) {
      result.only_in_base.push_back(run_label(*a.first));
      continue;
    }
    const CellRuns& b = other->second;
    RunChange change;
    change.label = run_label(*a.first);
    change.base_processes = a.by_process.size();
    change.new_processes = b.by_process.size();
    change.per_process = change.base_processes >= 2 && change.new_processes >= 2;
    any_single = any_single || !change.per_process;
    change.differences = config_differences((*a.first)["config"], (*b.first)["config"]);
    for (const char* metric : {"total_s", "model_s", "sampler_s"}) {
      MetricChange m = test_metric(metric, a, b, change.per_process, s);
      if (m.n_base == 0 || m.n_new == 0) continue;
      if (m.metric == "total_s") {
        result.regression = result.regression || m.verdict == "slower";
        result.decided = result.decided || m.verdict != "undecidable";
        if (m.base_median > 0 && m.new_median > 0) log_ratios.push_back(std::log(m.new_median / m.base_median));
      }
      change.metrics.push_back(m);
    }
    result.matched.push_back(change);
  }
  for (const auto& key : new_order) {
    if (!base_cells.count(key)) result.only_in_new.push_back(run_label(*new_cells[key].first));
  }
  suggest_ignores(base_cells, new_cells, &result);
  if (!log_ratios.empty()) {
    result.geomean_ratio = std::exp(std::accumulate(log_ratios.begin(), log_ratios.end(), 0.0) / double(log_ratios.size()));
  }
  compare_contexts(base, updated, &result);
  if (any_single) {
    result.notes.push_back("between-process noise unknown: a run measured in one process per side is tested on its "
                           "repeats, which share that process's level (here it moves by about 10% between processes); "
                           "use `diffbench ab` to measure several processes per side");
  }
  return result;
}

}  // namespace diffbench
