// The ablation's outputs: console table, Markdown, CSV and the JSON "ablation" object. Formatting
// only: every figure was derived in finish_ablation().
#include "diffbench/plans/ablation_tables.h"

#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diffbench/plans/ablation.h"

namespace diffbench {
namespace {

std::string time_text(double s) {
  if (s >= 1) return fmt::format("{:.2f} s", s);
  if (s >= 1e-3) return fmt::format("{:.2f} ms", s * 1e3);
  return fmt::format("{:.1f} us", s * 1e6);
}

std::string mib(int64_t bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20)); }

std::string speedup_text(const AblationRow& r, bool base) {
  if (base) return "1.00x";
  if (r.speedup.level <= 0) {  // too few figures for the stated level: the whole range, never called a CI
    return fmt::format("{:.2f}x range {:.2f}-{:.2f}", r.speedup.estimate, r.speedup.low, r.speedup.high);
  }
  return fmt::format("{:.2f}x [{:.2f}, {:.2f}]", r.speedup.estimate, r.speedup.low, r.speedup.high);
}

std::string drift_text(const AblationRow& r, bool base) {
  if (base || !r.drift_psnr_db) return "-";
  if (std::isinf(*r.drift_psnr_db)) return "identical";
  if (std::isnan(*r.drift_psnr_db)) return "n/a";
  return fmt::format("{:.1f} dB", *r.drift_psnr_db);
}

struct Cells {
  std::string label, time, speedup, peak, run_memory, ratio, drift, verdict;
};

// The row's label, with the toggles a compiled row leaves out said ("all (compile supersedes freeze)").
std::string row_label(const AblationRow& r) {
  if (r.config.superseded.empty()) return r.config.label;
  return fmt::format("{} (compile supersedes {})", r.config.label, fmt::join(r.config.superseded, ", "));
}

Cells cells(const Ablation& a, const AblationRow& r) {
  const bool base = &r == &a.rows.front();
  if (r.status != RunStatus::ok)
    return {row_label(r), "-", "-", "-", "-", "-", "-", verdict_text(r) + ": " + r.error};
  const bool device = a.rows.front().device_peak_bytes > 0;
  return {row_label(r),            time_text(r.time_per_image_s),
          speedup_text(r, base),   mib(device ? r.device_peak_bytes : r.peak_rss_bytes),
          mib(r.run_memory_bytes), fmt::format("{:.2f}x", r.memory_ratio),
          drift_text(r, base),     verdict_text(r)};
}

// "baseline 13.1 ms -> all 6.0 ms (2.2x) -> all + lcm:4 1.2 ms (11x)": the lecture's "combined impact",
// whose rungs are all toggles together and the few-step sampler on top (the one toggle when alone).
std::string combined_line(const Ablation& a) {
  std::vector<const AblationRow*> rungs;
  for (size_t i = 1; i < a.rows.size(); ++i) {
    const AblationRow& r = a.rows[i];
    if (r.status == RunStatus::ok && (r.config.few_step || r.config.label == "all")) rungs.push_back(&r);
  }
  if (rungs.empty() && a.rows.size() == 2 && a.rows[1].status == RunStatus::ok) rungs.push_back(&a.rows[1]);
  std::string line =
      "combined impact: " + a.rows.front().config.label + " " + time_text(a.rows.front().time_per_image_s);
  for (const AblationRow* r : rungs) {
    line += fmt::format(" -> {} {} ({:.1f}x)", r->config.label, time_text(r->time_per_image_s), r->speedup.estimate);
  }
  return line + " per image\n";
}

// The baseline measured again at the end, and a warning when the machine drifted more than the
// intervals can include.
std::string baseline_again_text(const Ablation& a) {
  if (!a.baseline_drift) return "";
  std::string out = fmt::format("baseline measured again at the end: {} per image ({:+.1f}% against the first)\n",
                                time_text(*a.baseline_again_s), 100 * *a.baseline_drift);
  if (std::abs(*a.baseline_drift) > kBaselineDriftWarning) {
    out += fmt::format(
        "warning: the machine's speed moved {:.0f}% during the ladder, more than the intervals include; speed-ups "
        "within that are not reliable: rerun on an idle machine, or test one toggle with diffbench ab\n",
        100 * std::abs(*a.baseline_drift));
  }
  return out;
}

}  // namespace

std::string ablation_console(const Ablation& a) {
  std::string out = fmt::format("{:<28} {:>11} {:>22} {:>11} {:>11} {:>7} {:>11}  {}\n", "configuration", "time/image",
                                "speed-up [95% CI]", a.rows.front().device_peak_bytes > 0 ? "device peak" : "peak RSS",
                                "run memory", "vs base", "drift", "verdict");
  for (const AblationRow& r : a.rows) {
    const Cells c = cells(a, r);
    out += fmt::format("{:<28} {:>11} {:>22} {:>11} {:>11} {:>7} {:>11}  {}\n", c.label, c.time, c.speedup, c.peak,
                       c.run_memory, c.ratio, c.drift, c.verdict);
  }
  out += combined_line(a);
  out += baseline_again_text(a);
  out += fmt::format(
      "speed-up: baseline time / configuration time per image, Hodges-Lehmann estimate and 95% interval over the "
      "counted repeats; run memory: peak resident memory minus resident memory at the run's start (models already "
      "loaded); vs base compares run memory{}; drift: PSNR of the output against the baseline's from the same "
      "seed, below {:g} dB \"changes results\"\n",
      a.rows.front().device_peak_bytes > 0 ? " (device peak on CUDA)" : "", a.max_drift_db);
  return out;
}

std::string ablation_markdown(const Ablation& a) {
  std::string out =
      "| Configuration | Time / image | Speed-up [95% CI] | Peak memory | Run memory | vs base | Drift (PSNR) | "
      "Verdict |\n"
      "|---|---:|---:|---:|---:|---:|---:|---|\n";
  for (const AblationRow& r : a.rows) {
    const Cells c = cells(a, r);
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", c.label, c.time, c.speedup, c.peak, c.run_memory,
                       c.ratio, c.drift, c.verdict);
  }
  return out + "\n" + combined_line(a) + baseline_again_text(a);
}

std::string ablation_csv(const Ablation& a) {
  std::string out =
      "configuration,toggles,sampler,steps,status,time_per_image_s,speedup,speedup_low,speedup_high,peak_rss_bytes,"
      "run_memory_bytes,device_peak_bytes,memory_ratio,drift_psnr_db,drift_on,verdict\n";
  for (const AblationRow& r : a.rows) {
    const std::string drift = r.drift_psnr_db && std::isfinite(*r.drift_psnr_db) ? fmt::format("{}", *r.drift_psnr_db)
                              : r.drift_psnr_db && std::isinf(*r.drift_psnr_db)  ? "inf"
                                                                                 : "";
    out += fmt::format("\"{}\",\"{}\",{},{},{},{},{},{},{},{},{},{},{},{},{},\"{}\"\n", r.config.label,
                       fmt::join(r.config.toggles, " "), r.sampler, r.steps, status_name(r.status), r.time_per_image_s,
                       r.speedup.estimate, r.speedup.low, r.speedup.high, r.peak_rss_bytes, r.run_memory_bytes,
                       r.device_peak_bytes, r.memory_ratio, drift, r.drift_on, verdict_text(r));
  }
  return out;
}

nlohmann::json ablation_json(const Ablation& a) {
  nlohmann::json rows = nlohmann::json::array();
  for (const AblationRow& r : a.rows) {
    nlohmann::json drift = nullptr;
    if (r.drift_psnr_db && !std::isnan(*r.drift_psnr_db)) {
      drift = {{"on", r.drift_on},
               {"psnr_db", std::isinf(*r.drift_psnr_db) ? nlohmann::json(nullptr) : nlohmann::json(*r.drift_psnr_db)},
               {"identical", std::isinf(*r.drift_psnr_db)}};
    }
    rows.push_back({{"label", r.config.label},
                    {"toggles", r.config.toggles},
                    {"superseded", r.config.superseded},
                    {"few_step", r.config.few_step},
                    {"sampler", r.sampler},
                    {"steps", r.steps},
                    {"status", status_name(r.status)},
                    {"error", r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error)},
                    {"time_per_image_s", r.time_per_image_s},
                    {"per_image_s", r.per_image_s},
                    {"speedup",
                     {{"estimate", r.speedup.estimate},
                      {"low", r.speedup.low},
                      {"high", r.speedup.high},
                      {"level", r.speedup.level}}},
                    {"memory",
                     {{"peak_rss_bytes", r.peak_rss_bytes},
                      {"run_memory_bytes", r.run_memory_bytes},
                      {"device_peak_bytes", r.device_peak_bytes},
                      {"ratio", r.memory_ratio}}},
                    {"drift", drift},
                    {"verdict", verdict_text(r)}});
  }
  nlohmann::json again = nullptr;
  if (a.baseline_drift) again = {{"time_per_image_s", *a.baseline_again_s}, {"change", *a.baseline_drift}};
  return {{"max_drift_db", a.max_drift_db}, {"device", a.device}, {"rows", rows}, {"baseline_again", again}};
}

}  // namespace diffbench
