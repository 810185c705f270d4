// Comparing two reports: runs matched by cell identity, tested per metric on the figures the data
// holds (each `ab` pair's ratio, one median per process, or one process's repeats), a verdict
// only when the change is both large and significant (rank tests in rank_tests.cpp).
#include "diffbench/gate/compare.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <numeric>
#include <stdexcept>

#include <fmt/format.h>

#include "diffbench/core/statistics.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/gate/rank_tests.h"

namespace diffbench {

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::slower: return "slower";
    case Verdict::faster: return "faster";
    case Verdict::no_change: return "no change";
    case Verdict::undecidable: break;
  }
  return "undecidable";
}
namespace {

// The runs of one cell on one side, grouped by the process that measured them.
struct CellRuns {
  const RecordedRun* first = nullptr;
  std::map<std::string, std::vector<const RecordedRun*>> by_process;
  std::map<std::string, int> pair_of;  ///< process -> its pair index in an `ab` measurement
};

// Whether both sides come from one `ab` measurement: every process has a pair index, and the
// two sides hold the same pairs (then drift between pairs cancels in each pair's ratio).
std::vector<int> common_pairs(const CellRuns& a, const CellRuns& b) {
  std::set<int> pa, pb;
  for (const auto& [process, runs] : a.by_process) {
    if (!a.pair_of.count(process)) return {};
    pa.insert(a.pair_of.at(process));
  }
  for (const auto& [process, runs] : b.by_process) {
    if (!b.pair_of.count(process)) return {};
    pb.insert(b.pair_of.at(process));
  }
  if (pa != pb || pa.size() < 2 || pa.size() != a.by_process.size() || pb.size() != b.by_process.size()) return {};
  return {pa.begin(), pa.end()};
}

std::map<std::string, CellRuns> group(const Report& report, const std::vector<std::string>& ignore,
                                      std::vector<std::string>* order, std::vector<std::string>* not_ok) {
  if (report.recorded.size() != report.runs.size())
    throw std::invalid_argument("compare_reports: add a report's runs with Report::add_run");
  std::map<std::string, CellRuns> cells;
  for (const RecordedRun& run : report.recorded) {
    if (!run.ok()) {  // a failed or interrupted run has nothing to compare
      not_ok->push_back(fmt::format("{} ({})", run.label, run.status_text));
      continue;
    }
    std::string key = cell_key(run.config, ignore);
    CellRuns& cell = cells[key];
    if (!cell.first) {
      cell.first = &run;
      order->push_back(key);
    }
    // Files written before runs carried a process id: each file is one process.
    const std::string process = run.process_id.empty() ? report.path : run.process_id;
    cell.by_process[process].push_back(&run);
    if (run.pair) cell.pair_of[process] = *run.pair;
  }
  return cells;
}

// Runs recorded as measured under contention (run.contention.suspect; older files have no field);
// true when the cell has any.
bool note_suspects(const char* side, const CellRuns& cell, std::vector<std::string>* out) {
  bool any = false;
  for (const auto& [process, runs] : cell.by_process) {
    for (const auto* run : runs) {
      if (run->contention) out->push_back(fmt::format("{}: {}: {}", side, run->label, *run->contention));
      any = any || run->contention.has_value();
    }
  }
  return any;
}

std::vector<double> samples_of(const std::vector<const RecordedRun*>& runs, const char* metric) {
  std::vector<double> v;
  for (const auto* r : runs) {
    const std::vector<double>& figures = r->figures(metric);
    v.insert(v.end(), figures.begin(), figures.end());
  }
  return v;
}

// "slower" only when the change is beyond the threshold and the one-sided test for "larger"
// is significant; "faster" likewise the other way; "undecidable" when these sizes can never
// reach alpha. The p-value kept is the tail in the change's own direction.
Verdict verdict(MetricChange& m, const RankTails& tails, const CompareSettings& s) {
  m.p_value = m.change >= 0 ? tails.greater : tails.less;
  if (m.min_p >= s.alpha) return Verdict::undecidable;
  if (m.change > s.threshold && tails.greater < s.alpha) return Verdict::slower;
  if (m.change < -s.threshold && tails.less < s.alpha) return Verdict::faster;
  return Verdict::no_change;
}

// Paired design (`ab`): one log ratio new/base per pair, Wilcoxon signed-rank test on them.
MetricChange test_pairs(const char* metric, const CellRuns& base, const CellRuns& updated,
                        const std::vector<int>& pairs, const CompareSettings& s) {
  auto by_pair = [&](const CellRuns& cell) {
    std::map<int, double> out;
    for (const auto& [process, runs] : cell.by_process) {
      std::vector<double> v = samples_of(runs, metric);
      if (!v.empty()) out[cell.pair_of.at(process)] = median(v);
    }
    return out;
  };
  std::map<int, double> a = by_pair(base), b = by_pair(updated);
  std::vector<double> fa, fb, log_ratios;
  for (int k : pairs) {
    if (!a.count(k) || !b.count(k) || a[k] <= 0 || b[k] <= 0) continue;
    fa.push_back(a[k]);
    fb.push_back(b[k]);
    log_ratios.push_back(std::log(b[k] / a[k]));
  }
  MetricChange m;
  m.metric = metric;
  m.n_base = fa.size();
  m.n_new = fb.size();
  if (log_ratios.size() < 2) return m;
  m.base_median = median(fa);
  m.new_median = median(fb);
  m.change = std::exp(median(log_ratios)) - 1;  // the typical pair's ratio: drift between pairs cancels
  m.min_p = std::min(1.0, 1 / std::pow(2.0, double(log_ratios.size())));
  double mean = std::accumulate(log_ratios.begin(), log_ratios.end(), 0.0) / double(log_ratios.size()), ss = 0;
  for (double x : log_ratios) ss += (x - mean) * (x - mean);
  double sd = std::sqrt(ss / double(log_ratios.size() - 1));
  m.detectable = m.min_p >= s.alpha ? std::numeric_limits<double>::infinity()
                                    : (normal_upper_quantile(s.alpha) + normal_upper_quantile(0.2)) * sd /
                                          std::sqrt(double(log_ratios.size()));
  m.verdict = verdict(m, wilcoxon_signed_rank_tails(log_ratios), s);
  return m;
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
  m.min_p = mann_whitney_min_p(a.size(), b.size());
  m.detectable = detectable_change(a, b, m.base_median, s.alpha);
  m.verdict = verdict(m, mann_whitney_tails(a, b), s);
  return m;
}

void compare_contexts(const Report& base, const Report& updated, Comparison* result) {
  if (base.schema_version != updated.schema_version) {
    result->context_warnings.push_back(
        fmt::format("schema_version: {} vs {} (re-measure the older side: cells of "
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
      for (const auto& field : config_differences(a.first->config, b.first->config)) {
        std::string group = ignorable_group_of(field);
        ignorable = ignorable && !group.empty();
        groups.insert(group);
      }
      if (!ignorable || groups.empty()) continue;
      std::string list;
      for (const auto& g : groups) list += (list.empty() ? "" : ",") + g;
      result->notes.push_back(fmt::format("'{}' differs from '{}' only in {}: `{} {}` compares them (and says so)",
                                          a.first->label, b.first->label, list, setting_name("ignore"), list));
      break;
    }
  }
}

// #41: `compare` called identical code slower in 3 of 5 tries on a busy machine, each side one
// process (+8.5%) or contended (+35%, +48%): such a "slower" is undecided, unless one process per
// side is slower by more than the between-process allowance (contention: never).
void hold_back_single_process_verdict(const RunChange& change, bool contended, MetricChange& m,
                                      std::vector<std::string>* held_back) {
  if (m.verdict != Verdict::slower || change.paired) return;
  const bool one_process = !change.per_process;
  if (!contended && !(one_process && m.change <= kBetweenProcessAllowance)) return;
  m.verdict = Verdict::undecidable;
  if (!held_back) return;
  held_back->push_back(
      contended ? fmt::format("{}: {:+.1f}%, measured under contention (other processes took the cores)", change.label,
                              100 * m.change)
                : fmt::format("{}: {:+.1f}%, one process per side, within the {:g}% a process's level moves by",
                              change.label, 100 * m.change, 100 * kBetweenProcessAllowance));
}

}  // namespace

Comparison compare_reports(const Report& base, const Report& updated, const CompareSettings& s) {
  Comparison result;
  std::vector<std::string> base_order, new_order;
  auto base_cells = group(base, s.ignore, &base_order, &result.only_in_base);
  auto new_cells = group(updated, s.ignore, &new_order, &result.failed_in_new);
  result.failed = !result.failed_in_new.empty();
  std::vector<double> log_ratios;
  bool any_single = false;
  for (const auto& key : base_order) {
    const CellRuns& a = base_cells[key];
    auto other = new_cells.find(key);
    if (other == new_cells.end()) {
      result.only_in_base.push_back(a.first->label);
      continue;
    }
    const CellRuns& b = other->second;
    const bool in_base = note_suspects("base", a, &result.suspect), in_new = note_suspects("new", b, &result.suspect);
    const bool contended = in_base || in_new;
    RunChange change;
    change.label = a.first->label;
    change.base_processes = a.by_process.size();
    change.new_processes = b.by_process.size();
    change.per_process = change.base_processes >= 2 && change.new_processes >= 2;
    const std::vector<int> pairs = common_pairs(a, b);
    change.paired = !pairs.empty();
    any_single = any_single || !change.per_process;
    change.differences = config_differences(a.first->config, b.first->config);
    for (const char* metric : {"total_s", "model_s", "sampler_s"}) {
      MetricChange m =
          change.paired ? test_pairs(metric, a, b, pairs, s) : test_metric(metric, a, b, change.per_process, s);
      if (m.n_base == 0 || m.n_new == 0) continue;
      hold_back_single_process_verdict(change, contended, m, m.metric == "total_s" ? &result.held_back : nullptr);
      if (m.metric == "total_s") {
        result.regression = result.regression || m.verdict == Verdict::slower;
        result.decided = result.decided || m.verdict != Verdict::undecidable;
        if (m.change > -1) log_ratios.push_back(std::log1p(m.change));  // the Change column, summarised
      }
      change.metrics.push_back(m);
    }
    result.matched.push_back(change);
  }
  for (const auto& key : new_order) {
    if (!base_cells.count(key)) result.only_in_new.push_back(new_cells[key].first->label);
  }
  suggest_ignores(base_cells, new_cells, &result);
  if (!log_ratios.empty()) {
    result.geomean_ratio =
        std::exp(std::accumulate(log_ratios.begin(), log_ratios.end(), 0.0) / double(log_ratios.size()));
  }
  compare_contexts(base, updated, &result);
  if (any_single) {
    result.notes.push_back(
        "between-process noise unknown: a run measured in one process per side is tested on its "
        "repeats, which share that process's level (here it moves by about 5% between processes); "
        "use `diffbench ab`, which interleaves both sides in blocks until a sequential test decides");
  }
  return result;
}

}  // namespace diffbench
