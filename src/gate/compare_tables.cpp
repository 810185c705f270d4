// compare's outputs: console table, GitHub Markdown (a pull-request comment) and JSON. They only
// format what compare_reports computed.
#include "diffbench/gate/compare_tables.h"

#include <cmath>

#include <fmt/format.h>

#include "diffbench/gate/compare.h"
#include "diffbench/report/tables.h"
#include "diffbench/core/setting_names.h"

namespace diffbench {
namespace {

std::string sizes(const RunChange& run, const MetricChange& m) {
  if (run.paired) return fmt::format("{} pairs", m.n_base);
  return fmt::format("{}/{}{}", m.n_base, m.n_new, run.per_process ? "p" : "r");
}

std::string detectable_text(double d) { return std::isinf(d) ? "none" : fmt::format("{:.1f}%", 100 * d); }

std::string summary_line(const Comparison& c, const CompareSettings& s) {
  if (c.failed) {
    return fmt::format(
        "FAILED: {} run(s) of the new side failed, went non-finite or were interrupted (listed above); "
        "a failed run never passes the gate.",
        c.failed_in_new.size());
  }
  if (c.matched.empty()) {
    return "NOTHING COMPARED: no run of the base matches a run of the new file (see the unmatched runs above); "
           "the gate cannot pass on nothing.";
  }
  std::string verdict = c.regression          ? "REGRESSION: some run is significantly slower."
                        : !c.held_back.empty() ? "UNDECIDED: slower only within what one process per side, or a "
                                                 "contended side, can tell apart from the machine (use `diffbench ab`)."
                        : c.decided            ? "No significant slowdown."
                                               : "UNDECIDED: too few figures per side for any p-value to reach alpha.";
  return fmt::format(
      "Geometric mean of the Change of total time over {} matched run(s): {:.3f} ({:+.1f}%). "
      "Threshold {:g}%, alpha {:g}. {}",
      c.matched.size(), c.geomean_ratio, 100 * (c.geomean_ratio - 1), 100 * s.threshold, s.alpha, verdict);
}

// Everything a reader needs before trusting the table: context differences, ignored config
// differences, unmatched runs, notes. `bullet` is "" for the console, "- " for Markdown.
std::string preamble(const Comparison& c, const std::string& bullet, bool markdown) {
  std::string out;
  const std::string strong = markdown ? "**" : "";
  for (const auto& w : c.context_warnings)
    out += bullet + strong + "WARNING" + strong + ": the two contexts differ: " + w + "\n";
  for (const auto& run : c.matched) {
    if (run.differences.empty()) continue;
    std::string fields;
    for (const auto& d : run.differences) fields += (fields.empty() ? "" : ", ") + d;
    out += bullet + strong + "WARNING" + strong + ": " + run.label + " was compared across different " + fields + " (" +
           setting_name("ignore") + ")\n";
  }
  for (const auto& l : c.only_in_base) out += bullet + "only in base: " + l + "\n";
  for (const auto& l : c.only_in_new) out += bullet + "only in new: " + l + "\n";
  for (const auto& l : c.failed_in_new) out += bullet + strong + "FAILED" + strong + " in new: " + l + "\n";
  for (const auto& l : c.suspect)
    out += bullet + strong + "SUSPECT" + strong + " (measured under contention) " + l + "\n";
  for (const auto& l : c.held_back) out += bullet + strong + "NOT DECIDED" + strong + " (slower?) " + l + "\n";
  for (const auto& n : c.notes) out += bullet + "note: " + n + "\n";
  return out;
}

}  // namespace

std::string compare_console(const Comparison& c, const CompareSettings& s) {
  std::string out = fmt::format("{:<40} {:<10} {:>7} {:>11} {:>11} {:>8} {:>8} {:>10}  {}\n", "Run", "Metric", "n",
                                "Base", "New", "Change", "p", "Detectable", "Verdict");
  for (const auto& run : c.matched) {
    for (const auto& m : run.metrics) {
      out += fmt::format("{:<40} {:<10} {:>8} {:>11} {:>11} {:>+7.1f}% {:>8.3f} {:>10}  {}\n", run.label, m.metric,
                         sizes(run, m), format_seconds(m.base_median), format_seconds(m.new_median), 100 * m.change,
                         m.p_value, detectable_text(m.detectable), verdict_name(m.verdict));
    }
  }
  out +=
      "n: figures tested per side (p: one median per process, r: repeats of one process; pairs: `ab`'s "
      "interleaved process pairs, tested on each pair's ratio); Change: new/base - 1, for pairs the median of "
      "the pairs' ratios (drift cancels in each pair, so it can differ from New/Base, the medians of all "
      "processes); p: one-sided, in the change's direction; Detectable: the smallest change these figures "
      "detect with 80% power.\n";
  return out + preamble(c, "", false) + summary_line(c, s) + "\n";
}

std::string compare_markdown(const Comparison& c, const CompareSettings& s) {
  std::string out =
      "| Run | Metric | n | Base | New | Change | p | Detectable | Verdict |\n"
      "|---|---|---:|---:|---:|---:|---:|---:|---|\n";
  for (const auto& run : c.matched) {
    for (const auto& m : run.metrics) {
      out += fmt::format("| {} | {} | {} | {} | {} | {:+.1f}% | {:.3f} | {} | {} |\n", run.label, m.metric,
                         sizes(run, m), format_seconds(m.base_median), format_seconds(m.new_median), 100 * m.change,
                         m.p_value, detectable_text(m.detectable), verdict_name(m.verdict));
    }
  }
  std::string pre = preamble(c, "- ", true);
  return out + "\n" + pre + (pre.empty() ? "" : "\n") + summary_line(c, s) + "\n";
}

nlohmann::json compare_json(const Comparison& c, const CompareSettings& s) {
  auto finite_or_null = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  nlohmann::json runs = nlohmann::json::array();
  for (const auto& run : c.matched) {
    nlohmann::json metrics = nlohmann::json::array();
    for (const auto& m : run.metrics) {
      metrics.push_back({{"metric", m.metric},
                         {"base_median_s", m.base_median},
                         {"new_median_s", m.new_median},
                         {"change", m.change},
                         {"p_value", m.p_value},
                         {"n_base", m.n_base},
                         {"n_new", m.n_new},
                         {"min_p", m.min_p},
                         {"detectable_change", finite_or_null(m.detectable)},
                         {"verdict", verdict_name(m.verdict)}});
    }
    runs.push_back({{"run", run.label},
                    {"base_processes", run.base_processes},
                    {"new_processes", run.new_processes},
                    {"per_process", run.per_process},
                    {"paired", run.paired},
                    {"differences", run.differences},
                    {"metrics", metrics}});
  }
  return {{"schema_version", 2},
          {"kind", "compare"},
          {"threshold_percent", 100 * s.threshold},
          {"alpha", s.alpha},
          {"ignore", s.ignore},
          {"regression", c.regression},
          {"failed", c.failed},
          {"failed_in_new", c.failed_in_new},
          {"decided", c.decided},
          {"nothing_compared", c.matched.empty()},
          {"geomean_ratio", c.geomean_ratio},
          {"runs", runs},
          {"only_in_base", c.only_in_base},
          {"only_in_new", c.only_in_new},
          {"suspect", c.suspect},
          {"held_back", c.held_back},
          {"context_warnings", c.context_warnings},
          {"notes", c.notes}};
}

}  // namespace diffbench
