// Human-facing tables: console, Markdown and CSV, all from the same RunRow summary.
#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "diffbench/core/errors.h"
#include "diffbench/report/tables.h"
#include "diffbench/measure/run_stats.h"
#include "diffbench/schedule/sampler.h"
#include "diffbench/samplers/registry.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/core/statistics.h"

namespace diffbench {
namespace {

std::string spread(const RunRow& r) {
  if (r.total.n == 0 || r.total.median <= 0) return "-";
  if (r.total.n == 1) return "n=1";  // one run has no spread: 0% would claim a certainty it lacks
  return fmt::format("{:.1f}%{}", 100 * r.total.iqr / r.total.median, r.total.noisy ? "!" : "");
}

std::string shape_with_x(const std::vector<int64_t>& shape) {
  std::string out;
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? "x" : "") + std::to_string(shape[i]);
  return out;
}

// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string psnr_text(double db) { return std::isinf(db) ? "inf" : fmt::format("{:.1f}", db); }

std::string quality_text(const RunRow& r) {
  if (!r.quality) return "";
  return fmt::format("{:.3g} / {} dB{}", r.quality->rmse, psnr_text(r.quality->psnr_db),
                     r.quality->per_sample ? "*" : "");
}

bool any_quality(const std::vector<RunRow>& rows) {
  for (const auto& r : rows) {
    if (r.quality) return true;
  }
  return false;
}

bool any_fd(const std::vector<RunRow>& rows) {
  for (const auto& r : rows) {
    if (r.fd) return true;
  }
  return false;
}

std::string fd_text(const RunRow& r) {
  if (!r.fd) return "-";
  return fmt::format("{:.2f} [{:.2f}, {:.2f}]", r.fd->fd.fd, r.fd->fd.ci_low, r.fd->fd.ci_high);
}

// The figures --quality adds to FD: KID and FD at infinite n, when any row has them.
struct ExtraFigures {
  bool kid = false, fd_inf = false;
  explicit ExtraFigures(const std::vector<RunRow>& rows) {
    for (const auto& r : rows) {
      kid = kid || (r.fd && r.fd->kid);
      fd_inf = fd_inf || (r.fd && r.fd->fd_infinity);
    }
  }
};

std::string kid_text(const RunRow& r) {
  if (!r.fd || !r.fd->kid) return "-";
  return fmt::format("{:.4g} [{:.4g}, {:.4g}]", r.fd->kid->value, r.fd->kid->ci_low, r.fd->kid->ci_high);
}

std::string fd_inf_text(const RunRow& r) {
  if (!r.fd || !r.fd->fd_infinity) return "-";
  const FrechetInfinity& f = *r.fd->fd_infinity;
  return fmt::format("{:.2f} [{:.2f}, {:.2f}]", f.value, f.ci_low, f.ci_high);
}

bool any_speedup(const std::vector<RunRow>& rows) {
  for (const auto& r : rows) {
    if (r.speedup > 0) return true;
  }
  return false;
}

}  // namespace

TimeUnit parse_time_unit(const std::string& text) {
  if (text == "auto") return TimeUnit::automatic;
  if (text == "s") return TimeUnit::s;
  if (text == "ms") return TimeUnit::ms;
  if (text == "us") return TimeUnit::us;
  throw UsageError(fmt::format("{} '{}': use auto, s, ms or us", setting_name("time_unit"), text));
}

std::string format_seconds(double s, TimeUnit unit) {
  const bool automatic = unit == TimeUnit::automatic;
  if (unit == TimeUnit::us || (automatic && s < 1e-3)) return fmt::format("{:.0f} us", s * 1e6);
  if (unit == TimeUnit::ms || (automatic && s < 1.0)) return fmt::format("{:.2f} ms", s * 1e3);
  return fmt::format("{:.2f} s", s);
}

static bool shapes_differ(const std::vector<RunRow>& rows) {
  for (const auto& r : rows) {
    if (r.shape != rows.front().shape) return true;
  }
  return false;
}

static bool models_differ(const std::vector<RunRow>& rows) {
  for (const auto& r : rows) {
    if (r.model_name != rows.front().model_name) return true;
  }
  return false;
}

// An NFE column where some sampler makes more model calls than steps (Heun), not in every table.
static bool nfe_differs(const std::vector<RunRow>& rows) {
  for (const auto& r : rows) {
    if (r.nfe > 0 && r.nfe != r.steps) return true;
  }
  return false;
}

std::vector<RunRow> summarize_runs(const std::vector<RunResult>& results, const std::string& baseline) {
  std::vector<RunRow> rows;
  double base_total = 0;
  for (const RunResult& r : results) {
    RunRow row;
    row.sampler = r.spec.sampler->name;
    row.model_name = r.spec.model_name;
    row.status = status_name(r.status);
    row.steps = r.spec.steps;
    row.nfe = model_evaluations(*r.spec.sampler, r.spec.steps);
    row.shape = r.spec.shape;
    row.seed = r.spec.seed;
    row.quality = r.quality;
    row.fd = r.fd;
    const RunStats stats = compute_stats(r);
    row.total = stats.total;
    row.step = stats.step;
    row.model = stats.model;
    row.sampler_time = stats.sampler_time;
    row.outside_model_fraction = stats.outside_model_fraction;
    row.steps_per_s = stats.steps_per_s;
    row.images_per_s = stats.images_per_s;
    if (row.sampler == baseline && row.total.median > 0) base_total = row.total.median;
    rows.push_back(row);
  }
  for (auto& row : rows) {
    if (base_total > 0 && row.total.median > 0) row.speedup = base_total / row.total.median;
  }
  return rows;
}

std::string console_table(const std::vector<RunRow>& rows, TimeUnit unit) {
  const bool speed = any_speedup(rows), quality = any_quality(rows), shapes = shapes_differ(rows), fd = any_fd(rows);
  const bool models = models_differ(rows), nfe = nfe_differs(rows);
  size_t width = 10;  // a longer sampler name (dpmpp_2m_sde) widens the first column
  for (const RunRow& r : rows) width = std::max(width, r.sampler.size());
  std::string out = fmt::format("{:<{}}", "Sampler", width);
  if (models) out += fmt::format(" {:<12}", "Model");
  out += fmt::format(" {:>6}", "Steps");
  if (nfe) out += fmt::format(" {:>5}", "NFE");
  if (shapes) out += fmt::format(" {:>14}", "Shape");
  out += fmt::format(" {:>11} {:>11} {:>9} {:>8}", "Time/Step", "Total", "it/s", "Spread");
  if (speed) out += fmt::format(" {:>9}", "Speed-up");
  const ExtraFigures extra(rows);
  if (fd) out += fmt::format(" {:>22} {:>10}", "FD [95% CI]", "s/image");
  if (extra.kid) out += fmt::format(" {:>26}", "KID [95% CI]");
  if (extra.fd_inf) out += fmt::format(" {:>22}", "FD(inf) [95% CI]");
  if (quality) out += fmt::format("  {}", "RMSE / PSNR vs reference");
  out += "\n";
  for (const RunRow& r : rows) {
    out += fmt::format("{:<{}}", r.sampler, width);
    if (models) out += fmt::format(" {:<12}", r.model_name);
    out += fmt::format(" {:>6}", r.steps);
    if (nfe) out += fmt::format(" {:>5}", r.nfe ? std::to_string(r.nfe) : "-");
    if (shapes) out += fmt::format(" {:>14}", shape_with_x(r.shape));
    if (r.total.n == 0) {
      out += " " + r.status + "\n";
      continue;
    }
    out += fmt::format(" {:>11} {:>11} {:>9.1f} {:>8}", format_seconds(r.step.median, unit),
                       format_seconds(r.total.median, unit), r.steps_per_s, spread(r));
    if (speed) out += fmt::format(" {:>8.1f}x", r.speedup);
    if (fd)
      out += fmt::format(" {:>22} {:>10}", fd_text(r),
                         r.fd ? format_seconds(r.fd->generation_s / double(r.fd->samples), unit) : "-");
    if (extra.kid) out += fmt::format(" {:>26}", kid_text(r));
    if (extra.fd_inf) out += fmt::format(" {:>22}", fd_inf_text(r));
    if (quality) out += "  " + quality_text(r);
    if (r.status != "ok") out += "  (" + r.status + ")";
    out += "\n";
  }
  return out;
}

std::string markdown_table(const std::vector<RunRow>& rows, TimeUnit unit) {
  const bool speed = any_speedup(rows), quality = any_quality(rows), shapes = shapes_differ(rows), fd = any_fd(rows);
  const bool models = models_differ(rows), nfe = nfe_differs(rows);
  std::string out = std::string("| Sampler |") + (models ? " Model |" : "") + " Steps |" + (nfe ? " NFE |" : "") +
                    (shapes ? " Shape |" : "") + " Time/Step | Total | it/s | Spread |";
  std::string rule = std::string("|---|") + (models ? "---|" : "") + "---:|" + (nfe ? "---:|" : "") +
                     (shapes ? "---|" : "") + "---:|---:|---:|---:|";
  if (speed) out += " Speed-up |", rule += "---:|";
  const ExtraFigures extra(rows);
  if (fd) out += " FD [95% CI] | s/image |", rule += "---:|---:|";
  if (extra.kid) out += " KID [95% CI] |", rule += "---:|";
  if (extra.fd_inf) out += " FD(inf) [95% CI] |", rule += "---:|";
  if (quality) out += " RMSE / PSNR vs reference |", rule += "---:|";
  out += "\n" + rule + "\n";
  for (const RunRow& r : rows) {
    out += "| " + r.sampler + " |" + (models ? " " + r.model_name + " |" : "") + fmt::format(" {} |", r.steps);
    if (nfe) out += fmt::format(" {} |", r.nfe ? std::to_string(r.nfe) : "-");
    if (shapes) out += " " + shape_with_x(r.shape) + " |";
    out += fmt::format(" {} | {} | {:.1f} | {} |", r.total.n ? format_seconds(r.step.median, unit) : r.status,
                       r.total.n ? format_seconds(r.total.median, unit) : "-", r.steps_per_s, spread(r));
    if (speed) out += fmt::format(" {:.1f}x |", r.speedup);
    if (fd)
      out += " " + fd_text(r) + " | " +
             (r.fd ? format_seconds(r.fd->generation_s / double(r.fd->samples), unit) : "-") + " |";
    if (extra.kid) out += " " + kid_text(r) + " |";
    if (extra.fd_inf) out += " " + fd_inf_text(r) + " |";
    if (quality) out += " " + quality_text(r) + " |";
    out += "\n";
  }
  return out;
}

std::string csv_table(const std::vector<RunRow>& rows) {
  std::string out =
      "sampler,steps,shape,seed,status,repeats,total_median_s,total_iqr_s,total_ci_low_s,total_ci_high_s,"
      "step_median_s,model_median_s,sampler_median_s,steps_per_s,images_per_s,outside_model_fraction,speedup,"
      "reference,rmse,max_abs,psnr_db,fd,fd_ci_low,fd_ci_high,fd_samples,fd_per_image_s,model,nfe,"
      "kid,kid_ci_low,kid_ci_high,fd_inf,fd_inf_ci_low,fd_inf_ci_high\n";
  for (const RunRow& r : rows) {
    std::string shape = shape_with_x(r.shape);
    out += fmt::format("{},{},{},{},{},{},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.6g},{},",
                       r.sampler, r.steps, shape, r.seed, r.status, r.total.n, r.total.median, r.total.iqr,
                       r.total.ci_low, r.total.ci_high, r.step.median, r.model.median, r.sampler_time.median,
                       r.steps_per_s, r.images_per_s, r.outside_model_fraction,
                       r.speedup > 0 ? fmt::format("{:.6g}", r.speedup) : "");  // no speed-up: an empty field, not 0
    if (r.quality) {
      out += fmt::format("{},{:.9g},{:.9g},{},", r.quality->reference, r.quality->rmse, r.quality->max_abs,
                         psnr_text(r.quality->psnr_db));
    } else {
      out += ",,,,";
    }
    if (r.fd) {
      out += fmt::format("{:.9g},{:.9g},{:.9g},{},{:.9g},", r.fd->fd.fd, r.fd->fd.ci_low, r.fd->fd.ci_high,
                         r.fd->samples, r.fd->generation_s / double(r.fd->samples));
    } else {
      out += ",,,,,";
    }
    out += csv_field(r.model_name) + "," + (r.nfe ? std::to_string(r.nfe) : "") + ",";
    const auto* kid = r.fd && r.fd->kid ? &*r.fd->kid : nullptr;
    const auto* inf = r.fd && r.fd->fd_infinity ? &*r.fd->fd_infinity : nullptr;
    out += kid ? fmt::format("{:.9g},{:.9g},{:.9g},", kid->value, kid->ci_low, kid->ci_high) : std::string(",,,");
    out += inf ? fmt::format("{:.9g},{:.9g},{:.9g}\n", inf->value, inf->ci_low, inf->ci_high) : std::string(",,\n");
  }
  return out;
}

}  // namespace diffbench
