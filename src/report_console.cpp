// The human-readable table.
#include <numeric>

#include <fmt/format.h>

#include "diffbench/report.h"
#include "diffbench/statistics.h"

namespace diffbench {

std::string format_seconds(double s) {
  if (s < 1e-3) return fmt::format("{:.0f} us", s * 1e6);
  if (s < 1.0) return fmt::format("{:.2f} ms", s * 1e3);
  return fmt::format("{:.2f} s", s);
}

std::string console_table(const std::vector<RunResult>& results, const std::string& baseline) {
  double base_total = 0;
  for (const RunResult& r : results) {
    if (r.spec.sampler == baseline && !r.repeats.empty()) {
      std::vector<double> t;
      for (const auto& rep : r.repeats) t.push_back(rep.total_s);
      base_total = median(t);
    }
  }
  std::string out = fmt::format("{:<10} {:>6} {:>11} {:>11} {:>9} {:>8}{}\n", "Sampler", "Steps", "Time/Step",
                                "Total", "it/s", "Spread", base_total > 0 ? fmt::format(" {:>9}", "Speed-up") : "");
  for (const RunResult& r : results) {
    if (r.repeats.empty()) {
      out += fmt::format("{:<10} {:>6} {}\n", r.spec.sampler, r.spec.steps, r.status + ": " + r.error);
      continue;
    }
    std::vector<double> totals, per_step;
    for (const auto& rep : r.repeats) {
      totals.push_back(rep.total_s);
      double steps = std::accumulate(rep.step_s.begin(), rep.step_s.end(), 0.0);
      per_step.push_back(steps / double(rep.step_s.size()));
    }
    Summary total = summarize(totals);
    std::string spread = total.median > 0 ? fmt::format("{:.1f}%{}", 100 * total.iqr / total.median, total.noisy ? "!" : "")
                                          : "-";
    out += fmt::format("{:<10} {:>6} {:>11} {:>11} {:>9.1f} {:>8}", r.spec.sampler, r.spec.steps,
                       format_seconds(median(per_step)), format_seconds(total.median),
                       double(r.spec.steps) / total.median, spread);
    if (base_total > 0) out += fmt::format(" {:>8.1f}x", base_total / total.median);
    if (r.status != "ok") out += "  (" + r.status + ")";
    out += "\n";
  }
  return out;
}

}  // namespace diffbench
