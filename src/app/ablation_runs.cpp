// The optimisation ladder measured (see ablation_runs.h): each configuration in a session of its own.
#include "diffbench/app/ablation_runs.h"

#include <algorithm>
#include <cstdio>
#include <fstream>

#include <fmt/format.h>

#include "diffbench/app/model_pool.h"
#include "diffbench/app/pipeline.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/core/statistics.h"
#include "diffbench/report/environment.h"
#include "diffbench/report/json.h"

namespace diffbench {
namespace {

// AVX512-BF16 or AMX: bf16 matmuls and convolutions run in hardware (else bf16 is emulated, slower).
bool cpu_has_bf16() {
  std::ifstream in("/proc/cpuinfo");
  std::string word;
  while (in >> word) {
    if (word == "avx512_bf16" || word == "amx_bf16") return true;
  }
  return false;
}

// The toggles worth trying on this device, less those the baseline already has.
std::vector<std::string> default_toggles(const SessionSettings& o, const Session& s, const RunSpec& spec) {
  std::vector<std::string> t;
  if (!o.load.freeze) t.push_back("freeze");
  if (!o.dtype || *o.dtype == at::kFloat) {
    if (s.device.is_cuda())
      t.push_back("fp16");
    else if (cpu_has_bf16())
      t.push_back("bf16");
  }
  if (!o.load.channels_last) t.push_back("channels-last");
  if (s.device.is_cuda() && !o.cuda_graphs) t.push_back("cuda-graphs");
  if (!o.compiled && s.manifest.packages.count(s.dtype)) t.push_back("compile");  // exported in the aoti format
  // Tiles of half the latent with a quarter-tile overlap, where the latent is large enough that a tile
  // still holds most of the decoder's receptive field (an 8x8 latent in 4x4 tiles measured 21 dB).
  const int64_t side = std::min(spec.shape[2], spec.shape[3]);
  if (s.vae && s.vae->format() != "aoti" && !o.vae_tiling && side >= 32) t.push_back(fmt::format("vae-tiling={}:{}", side / 2, side / 8));
  return t;
}

// The baseline's typed setup with one configuration's toggles applied; its outputs are the ladder's.
RunSetup setup_for(const RunSetup& base, const AblationConfig& c) {
  RunSetup r = base;
  SessionSettings& s = r.session;
  s.load.freeze = s.load.freeze || c.freeze;
  s.load.channels_last = s.load.channels_last || c.channels_last;
  s.cuda_graphs = s.cuda_graphs || c.cuda_graphs;
  s.compiled = s.compiled || c.compiled;
  if (c.dtype) s.dtype = parse_dtype(*c.dtype);
  if (c.threads) s.threads = c.threads;
  if (c.vae_tiling) s.vae_tiling = c.vae_tiling;
  if (!c.model.empty()) s.model_for = {{c.sampler, c.model}};
  if (c.few_step && !c.steps) r.spec.steps.reset();  // the few-step model's own count, not the baseline's --steps
  r.out.json = r.out.csv = r.out.markdown = "";
  return r;
}

// One configuration in a session of its own (options `o`); the session is gone when this returns.
// `shown`: the command's own options (progress and what is said on stderr).
AblationMeasured measure_config(const RunSetup& o, const OutputSetup& shown, const AblationConfig& c) {
  AblationMeasured m;
  m.row.config = c;
  ModelPool pool(o, true);
  std::vector<std::string> warnings;
  const std::string sampler = !c.sampler.empty() ? c.sampler : !o.sampler.empty() ? o.sampler : kAblationSampler;
  const std::optional<int> steps = c.sampler.empty() ? o.spec.steps : c.steps;
  const RunSpec spec = pool.spec(sampler, steps, {}, &warnings);
  m.row.sampler = spec.sampler->name;
  m.row.steps = spec.steps;
  if (c.few_step) {
    m.row.config.label =
        fmt::format("{} + {}:{}", c.toggles.size() > 1 ? "all" : c.toggles.front(), spec.sampler->name, spec.steps);
  }
  if (!shown.quiet) {
    std::fprintf(stderr, "measuring %s (%s %d steps)...\n", m.row.config.label.c_str(), spec.sampler->name.c_str(),
                 spec.steps);
  }
  m.result = pool.measurer_for(spec).measure(spec, progress_for(shown, m.row.config.label));
  clear_progress(shown);
  const Session& session = pool.session_for(spec);
  m.run_json = run_to_json(m.result, session);
  m.context = environment_context(session, pool.record_for(spec));
  m.row.status = m.result.status;
  m.row.error = m.result.error;
  for (const RepeatResult& rep : m.result.repeats) m.row.per_image_s.push_back(rep.total_s / double(spec.shape[0]));
  m.row.peak_rss_bytes = m.result.peak_rss_bytes;
  m.row.run_memory_bytes = std::max<int64_t>(0, m.result.peak_rss_bytes - m.result.rss_start_bytes);
  m.row.device_peak_bytes = m.result.device_peak_bytes;
  return m;
}

// A configuration that could not run (its flags refused by the model or device): a row saying why.
AblationMeasured failed_config(const AblationConfig& c, const std::exception& e) {
  AblationMeasured m;
  m.row.config = c;
  m.row.status = RunStatus::failed;
  m.row.error = one_line(e);
  std::fprintf(stderr, "error: %s: %s\n", c.label.c_str(), m.row.error.c_str());
  return m;
}

// The baseline once more, after every configuration: how far the machine itself drifted.
void measure_baseline_again(const RunSetup& o, const AblationConfig& baseline, const std::vector<AblationMeasured>& done,
                            Ablation& ablation) {
  if (done.size() < 2 || done.front().row.status != RunStatus::ok ||
      done.back().result.status == RunStatus::interrupted)
    return;
  RunSetup ro = setup_for(o, baseline);
  ro.out.quiet = true;
  AblationConfig again = baseline;
  again.label = "baseline again";
  const AblationMeasured m = measure_config(ro, o.out, again);
  if (m.row.status != RunStatus::ok || m.row.per_image_s.empty()) return;
  ablation.baseline_again_s = median(m.row.per_image_s);
  ablation.baseline_drift = *ablation.baseline_again_s / median(done.front().row.per_image_s) - 1;
}

}  // namespace

std::vector<AblationMeasured> measure_ladder(const RunSetup& o, const LadderRequest& request, Ablation& ablation) {
  std::vector<AblationMeasured> done;
  std::vector<std::string> toggles = request.toggles;
  std::optional<FastSampler> fast = request.fast;
  {
    // The baseline also decides the defaults: they depend on the device, the VAE and the shape.
    RunSetup silent = o;
    silent.out.quiet = true;  // the baseline says what the manifest supplied
    ModelPool probe(silent, true);
    std::vector<std::string> unused;
    const RunSpec spec = probe.spec(o.sampler.empty() ? kAblationSampler : o.sampler, std::nullopt, {}, &unused);
    const Session& s = probe.session_for(spec);
    ablation.device = fmt::format("{}, {} threads", s.device.str(), s.threads);
    if (toggles.empty()) toggles = default_toggles(o.session, s, spec);
    if (request.default_fast && o.session.default_model && s.manifest.sampler_models.count("lcm"))
      fast = FastSampler{"lcm", 0, ""};
  }
  if (toggles.empty()) throw UsageError(fmt::format("no toggle applies here (the baseline already has them all); give {}", setting_name("toggles")));
  const std::vector<AblationConfig> plan = ablation_plan(toggles, fast);
  for (const AblationConfig& c : plan) {
    RunSetup ro = setup_for(o, c);
    ro.out.quiet = o.out.quiet || !done.empty();  // the models' notes once, for the baseline
    try {
      done.push_back(measure_config(ro, o.out, c));
    } catch (const UsageError& e) {
      if (done.empty()) throw;  // no baseline, nothing to compare with
      done.push_back(failed_config(c, e));
    } catch (const RuntimeError& e) {
      if (done.empty()) throw;
      done.push_back(failed_config(c, e));
    }
    if (done.back().result.status == RunStatus::interrupted) break;
  }
  measure_baseline_again(o, plan.front(), done, ablation);
  return done;
}

}  // namespace diffbench
