// `diffbench ablate`: toggles, the plan of configurations, and the figures derived from their runs.
#include "diffbench/plans/ablation.h"
#include "diffbench/quality/reference_quality.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>
#include <tuple>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/names.h"
#include "diffbench/core/parse.h"
#include "diffbench/schedule/sampler.h"
#include "diffbench/samplers/registry.h"
#include "diffbench/core/statistics.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/measure/process_info.h"

namespace diffbench {
namespace {

const std::vector<std::string> kToggleNames = {
    "freeze",     "bf16", "fp16", "fp32", "channels-last", "vae-tiling=TILE[:OVERLAP]", "threads=N", "cuda-graphs",
    "compile"};

// What a toggle sets, so that two setting the same thing are refused.
std::string setting_of(const std::string& toggle) {
  if (toggle == "bf16" || toggle == "fp16" || toggle == "fp32") return "dtype";
  return toggle.substr(0, toggle.find('='));
}

int positive(const std::string& text, const std::string& toggle) {
  const std::optional<int64_t> value = parse_positive(text, 9999);
  if (!value) {
    throw UsageError(
        fmt::format("{}: '{}' needs a positive whole number, e.g. threads=1", setting_name("toggles"), toggle));
  }
  return static_cast<int>(*value);
}

}  // namespace

FastSampler parse_fast(const std::string& text) {
  FastSampler f;
  const size_t at = text.find('@');
  const std::string head = text.substr(0, at);
  if (at != std::string::npos) f.model = text.substr(at + 1);
  const std::string example = "lcm:4 or lcm:4@models/digits/lcm.pt (SAMPLER:STEPS[@MODEL])";
  std::tie(f.sampler, f.steps) = parse_sampler_steps(head, setting_name("fast"), example);
  const std::string hint = "give SAMPLER:STEPS[@MODEL], e.g. " + example.substr(0, example.find(" ("));
  if (at != std::string::npos && f.model.empty())
    throw UsageError(fmt::format("{} '{}': {}", setting_name("fast"), text, hint));
  return f;
}

std::vector<std::string> parse_toggles(const std::string& text) {
  std::vector<std::string> out;
  std::set<std::string> settings;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    std::string canonical = item;
    const std::string name = item.substr(0, item.find('='));
    if (name == "vae-tiling") {
      if (item.find('=') == std::string::npos)
        throw UsageError(setting_name("toggles") +
                         ": vae-tiling needs a tile size, e.g. vae-tiling=32:8 (latent pixels)");
      canonical =
          "vae-tiling=" + vae_tiling_name(parse_vae_tiling(item.substr(11), setting_name("toggles") + " vae-tiling"));
    } else if (name == "threads") {
      const int threads = positive(item.substr(std::min(item.size(), size_t(8))), item);
      if (threads > usable_cores()) {  // the rule of --threads: 1 to the cores this process may use
        throw UsageError(fmt::format("{}: '{}': use 1 to {} threads (the cores this process may use)",
                                     setting_name("toggles"), item, usable_cores()));
      }
      canonical = fmt::format("threads={}", threads);
    } else if (std::find(kToggleNames.begin(), kToggleNames.end(), item) == kToggleNames.end()) {
      throw UsageError(setting_name("toggles") + ": " + unknown_name_message("toggle", item, kToggleNames));
    }
    if (!settings.insert(setting_of(canonical)).second) {
      throw UsageError(fmt::format("{}: '{}' sets what an earlier toggle already sets ({}); give one",
                                   setting_name("toggles"), item, setting_of(canonical)));
    }
    out.push_back(canonical);
  }
  if (out.empty()) throw UsageError(setting_name("toggles") + " is empty; give e.g. freeze,bf16,channels-last");
  return out;
}

void apply_toggle(const std::string& t, AblationConfig& c) {
  if (t == "freeze")
    c.freeze = true;
  else if (t == "channels-last")
    c.channels_last = true;
  else if (t == "cuda-graphs")
    c.cuda_graphs = true;
  else if (t == "compile")
    c.compiled = true;
  else if (t == "bf16" || t == "fp16" || t == "fp32")
    c.dtype = t;
  else if (t.rfind("vae-tiling=", 0) == 0)
    c.vae_tiling = parse_vae_tiling(t.substr(11));
  else if (t.rfind("threads=", 0) == 0)
    c.threads = static_cast<int>(parse_positive(t.substr(8)).value_or(0));  // checked against the cores by parse_toggles
  else
    throw UsageError(setting_name("toggles") + ": " + unknown_name_message("toggle", t, kToggleNames));
  c.toggles.push_back(t);
}

std::vector<AblationConfig> ablation_plan(const std::vector<std::string>& toggles,
                                          const std::optional<FastSampler>& fast) {
  std::vector<AblationConfig> plan;
  const auto labelled = [](const std::string& label) {
    AblationConfig c;
    c.label = label;
    return c;
  };
  plan.push_back(labelled("baseline"));
  AblationConfig all = labelled("all");
  for (const auto& t : toggles) {
    AblationConfig one = labelled(t);
    apply_toggle(t, one);
    plan.push_back(one);
    apply_toggle(t, all);
  }
  if (all.compiled) {  // a package is compiled already: freezing or re-laying its weights does not apply
    for (const char* gone : {"freeze", "channels-last"}) {
      auto it = std::find(all.toggles.begin(), all.toggles.end(), gone);
      if (it == all.toggles.end()) continue;
      all.toggles.erase(it);
      all.superseded.push_back(gone);
    }
    all.freeze = all.channels_last = false;
  }
  if (toggles.size() > 1) plan.push_back(all);
  if (fast) {
    AblationConfig few = all;
    // steps 0: the step count the few-step model's manifest names (the default rung: the LCM student).
    const std::string rung = fast->steps > 0 ? fmt::format("{}:{}", fast->sampler, fast->steps) : fast->sampler;
    few.label = fmt::format("{} + {}", toggles.size() > 1 ? "all" : toggles.front(), rung);
    few.sampler = fast->sampler;
    if (fast->steps > 0) few.steps = fast->steps;
    few.model = fast->model;
    few.few_step = true;
    plan.push_back(few);
  }
  return plan;
}

SpeedUp speedup(const std::vector<double>& base, const std::vector<double>& other, double level) {
  SpeedUp s;
  std::vector<double> ratios;
  for (double b : base) {
    for (double o : other) {
      if (o > 0) ratios.push_back(b / o);
    }
  }
  if (ratios.empty()) return s;
  std::sort(ratios.begin(), ratios.end());
  const size_t n = ratios.size();
  s.estimate = n % 2 ? ratios[n / 2] : 0.5 * (ratios[n / 2 - 1] + ratios[n / 2]);
  const double na = static_cast<double>(base.size()), nb = static_cast<double>(other.size());
  const double z = normal_upper_quantile((1 - level) / 2);
  const double k = std::floor(na * nb / 2 - z * std::sqrt(na * nb * (na + nb + 1) / 12));
  if (k < 1) {  // too few figures for this level: the whole range, said as such
    s.low = ratios.front();
    s.high = ratios.back();
    return s;
  }
  s.low = ratios[static_cast<size_t>(k) - 1];
  s.high = ratios[n - static_cast<size_t>(k)];
  s.level = level;
  return s;
}

double output_drift_db(const RunResult& run, const RunResult& base, std::string* on) {
  const bool images = run.images.defined() && base.images.defined() && run.images.sizes() == base.images.sizes();
  const at::Tensor& a = images ? run.images : run.latents;
  const at::Tensor& b = images ? base.images : base.latents;
  *on = images ? "images" : "latents";
  if (!a.defined() || !b.defined() || a.sizes() != b.sizes()) return std::nan("");
  double rmse = 0, max_abs = 0, psnr = 0;
  const double peak = images ? 2.0 : (b.max() - b.min()).item<double>();  // images live in [-1, 1]
  compare_tensors(a, b, peak, &rmse, &max_abs, &psnr);
  return psnr;
}

void finish_ablation(Ablation& a) {
  if (a.rows.empty()) return;
  const AblationRow& base = a.rows.front();
  const bool on_device = base.device_peak_bytes > 0;
  const double base_memory = static_cast<double>(on_device ? base.device_peak_bytes : base.run_memory_bytes);
  for (AblationRow& r : a.rows) {
    if (r.status != RunStatus::ok || r.per_image_s.empty()) {
      r.verdict = AblationVerdict::no_figures;
      continue;
    }
    r.time_per_image_s = median(r.per_image_s);
    r.speedup = &r == &base ? SpeedUp{1, 1, 1, 0} : speedup(base.per_image_s, r.per_image_s);
    const double memory = static_cast<double>(on_device ? r.device_peak_bytes : r.run_memory_bytes);
    r.memory_ratio = base_memory > 0 ? memory / base_memory : 1;
    if (&r == &base) {
      r.verdict = AblationVerdict::baseline;
      continue;
    }
    if (r.speedup.level <= 0) {
      r.verdict = AblationVerdict::no_interval;
      r.verdict_note =
          fmt::format("{} vs {} figures give no 95% interval", base.per_image_s.size(), r.per_image_s.size());
      continue;
    }
    r.verdict = r.speedup.low > 1    ? AblationVerdict::faster
                : r.speedup.high < 1 ? AblationVerdict::slower
                                     : AblationVerdict::no_clear_change;
    r.changes_results = r.drift_psnr_db && !(*r.drift_psnr_db >= a.max_drift_db);
  }
}

std::string verdict_text(const AblationRow& row) {
  switch (row.verdict) {
    case AblationVerdict::baseline: return "baseline";
    case AblationVerdict::no_interval: return "no verdict: " + row.verdict_note;
    case AblationVerdict::no_figures: return row.status == RunStatus::ok ? "no figures" : status_name(row.status);
    case AblationVerdict::faster:
    case AblationVerdict::slower:
    case AblationVerdict::no_clear_change: break;
  }
  const char* name = row.verdict == AblationVerdict::faster   ? "faster"
                     : row.verdict == AblationVerdict::slower ? "slower"
                                                              : "no clear change";
  return std::string(name) + (row.changes_results ? ", changes results" : "");
}

}  // namespace diffbench
