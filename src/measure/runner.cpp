// One measured run, as a protocol: the cold forward apart, warm-up repeats not counted, counted repeats from the same
// seed, step times from marks on the device's stream (device.h), NaN/Inf and signals checked after each step.
#include "diffbench/measure/runner.h"
#include "diffbench/measure/stop.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>

#include "core/clock.h"
#include "models/device.h"
#include "models/torch_runtime.h"
#include "measure/finite_check.h"
#include "measure/guided_model.h"
#include "diffbench/measure/memory_guard.h"
#include "diffbench/measure/process_info.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/statistics.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/samplers/registry.h"

namespace diffbench {
namespace {

// The first forward call after loading is slow (TorchScript profiling): timed on its own, once per session;
// then 2 more, untimed, part of loading whatever --warmup says (the profiling executor optimises on the
// second call; #41: a first repeat after load ran 2-4x slow). Unrunnable dtype: usage error.
double cold_forward(const Session& session, GuidedModel& model, const RunSpec& spec, const at::Tensor& t0) {
  check_memory_by_forward(session, model, spec.shape, t0);  // #42: before the full-size call
  const double start = now_s();
  try {
    model(at::zeros(spec.shape, at::TensorOptions().dtype(at::kFloat).device(session.device)), t0);
  } catch (const RuntimeError& e) {
    std::string what = e.what();
    if (session.dtype != at::kFloat && what.find("not implemented for") != std::string::npos) {
      throw UsageError(fmt::format("{} {} is not supported on {} by this LibTorch ({}); use {} fp32{}",
                                   setting_name("dtype"), dtype_name(session.dtype), session.device.str(),
                                   what.substr(what.rfind(": ") + 2), setting_name("dtype"),
                                   session.device.is_cpu() ? " or bf16" : ""));
    }
    if (session.dtype != at::kFloat && what.find("must have the same dtype") != std::string::npos) {
      const std::string traced = session.manifest.dtype ? dtype_name(*session.manifest.dtype) : "another dtype";
      throw UsageError(
          fmt::format("{} {}: '{}' was traced in {}, which its trace keeps ({}); export it with a {} "
                      "variant (scripts/export_diffusers.py, docs/optimisations.md) or run it in {}",
                      setting_name("dtype"), dtype_name(session.dtype), session.unet->path(), traced,
                      what.substr(what.rfind(": ") + 2), dtype_name(session.dtype), traced));
    }
    throw;
  }
  model.clock().read();  // waits for the device's work (CUDA events): the cold call is host wall time
  const double cold_s = now_s() - start;
  for (int i = 0; i < 2; ++i) model(at::zeros(spec.shape, at::TensorOptions().device(session.device)), t0);
  model.clear_marks();
  model.clock().read();
  model.clock().clear();
  return cold_s;
}

// The VAE decode, whole or in tiles (--vae-tiling; `overlap_rmse`: their disagreement, vae_tiling.h).
at::Tensor decode_latents(const Session& session, const at::Tensor& x, double* overlap_rmse) {
  const auto format = session.load.channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
  const auto decode = [&](const at::Tensor& z) { return session.vae->forward({z.contiguous(format)}); };
  const at::Tensor z = (x / session.vae_scaling_factor).to(session.dtype);
  if (!session.vae_tiling) return decode(z);
  TiledDecode tiled = decode_tiled(decode, z, *session.vae_tiling);
  *overlap_rmse = tiled.overlap_rmse;
  return tiled.images;
}

// What one repeat needs besides its index; built once per run.
struct RepeatContext {
  const Session& session;
  const RunSpec& spec;
  const SamplerInfo& sampler;
  const NoiseSchedule& schedule;
  const Plan& plan;
  GuidedModel& model;
  FiniteCheck& finite;
  const std::vector<at::Tensor>& timesteps;
  const ProgressFn& progress;
  double run_start;
  int repeats;  // warm-ups included
  int* step_reached;  // last finished step, for the interrupt message
};

struct RepeatOutput {  // a counted repeat's outputs besides its times
  at::Tensor latents, images;
  double overlap_rmse = 0;  // --vae-tiling only
};

// The marks one repeat took on the run's clock, turned into its times once it is over.
struct RepeatMarks {
  int begin = 0, noise = 0, sampled = 0, decoded = 0;
  std::vector<int> step_start, step_end;
  std::vector<size_t> calls_end;  // the model's calls (GuidedModel::marks) made up to the end of each step
};

void fill_times(const RepeatMarks& m, const std::vector<GuidedModel::Marks>& calls, const std::vector<double>& t,
                RepeatResult& rep) {
  rep.init_noise_s = t[m.noise] - t[m.begin];
  for (size_t i = 0, call = 0; i < m.step_end.size(); ++i) {
    rep.step_s[i] = t[m.step_end[i]] - t[m.step_start[i]];
    for (; call < m.calls_end[i]; ++call) rep.model_s[i] += t[calls[call].second] - t[calls[call].first];
  }
  rep.vae_s = t[m.decoded] - t[m.sampled];
  rep.total_s = t[m.decoded] - t[m.begin];
  rep.rest_s = std::max(0.0, rep.total_s - rep.init_noise_s - sum(rep.step_s) - rep.vae_s);
}

// One repeat from `seed`: draw the initial noise, run every step with its time split into model and
// the rest, decode with the VAE. Times come from marks on the run's clock (device::StreamClock: on
// CUDA, events on the stream, so no step waits for the GPU), read once at the end. The checks after
// a step are not charged to the next one.
RepeatResult one_repeat(const RepeatContext& c, int k, uint64_t seed, RepeatOutput* output) {
  RepeatResult rep;
  rep.seed = seed;
  rep.step_s.assign(c.plan.steps(), 0.0);
  rep.model_s.assign(c.plan.steps(), 0.0);
  device::StreamClock& clock = c.model.clock();
  clock.clear();
  c.model.clear_marks();
  RepeatMarks m;
  m.step_start.assign(c.plan.steps(), 0);
  m.step_end.assign(c.plan.steps(), 0);
  m.calls_end.assign(c.plan.steps(), 0);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  m.begin = clock.mark();
  at::Tensor x = at::randn(c.spec.shape, generator, at::TensorOptions().dtype(at::kFloat));
  x = (x * static_cast<float>(c.plan.init_noise_sigma)).to(c.session.device);
  int last = m.noise = clock.mark();

  const ModelFn model = [&](const at::Tensor& x_in, const at::Tensor& t) { return c.model(x_in, t); };
  SampleArgs args{c.schedule, c.spec.config, c.plan, model, generator, c.spec.eta, c.timesteps, nullptr};
  args.on_step_end = [&](int i, const at::Tensor& latents) {
    m.step_start[i] = last;
    m.step_end[i] = clock.mark();
    m.calls_end[i] = c.model.marks().size();
    *c.step_reached = i;
    c.finite.after_step(i, latents);
    if (int sig = stop_requested()) throw Interrupted(sig);
    if (c.progress) c.progress({k, c.repeats, i + 1, c.plan.steps(), now_s() - c.run_start});
    last = clock.mark();
  };
  *c.step_reached = -1;
  c.finite.start();
  x = c.sampler.sample(args, x);
  c.finite.after_repeat();
  m.sampled = m.decoded = clock.mark();
  if (c.session.vae) {
    output->images = decode_latents(c.session, x, &output->overlap_rmse);
    m.decoded = clock.mark();
    check_decoded(output->images, x, c.session.vae->path(), c.plan.steps());  // after the mark: untimed
  }
  fill_times(m, c.model.marks(), clock.read(), rep);
  output->latents = x;
  return rep;
}

// Process resources over one run: CPU time, peak RSS (reset at the start where the kernel allows),
// the CUDA allocator's peak.
class ResourceWatch {
 public:
  // `trim`: give freed heap back first, so earlier runs' pages do not hide this run's growth in
  // resident memory (Session::trim_before_runs).
  ResourceWatch(c10::Device device, int threads, bool trim) : device_(device), threads_(threads) {
    if (trim) release_free_memory();
    device::reset_peak_memory(device_);
    rss_reset_ = reset_peak_rss();
    rss_start_ = current_rss_bytes();
    cpu_ = cpu_times();
    probe_ = contention_probe();
  }
  void counted_repeats_start() { faults_start_ = page_faults(); }
  void finish(RunResult& result) const {
    const CpuTimes end = cpu_times();
    result.cpu_user_s = end.user - cpu_.user;
    result.cpu_sys_s = end.sys - cpu_.sys;
    result.peak_rss_bytes = peak_rss_bytes(rss_reset_);
    result.rss_start_bytes = rss_start_;
    result.peak_rss_scope = rss_reset_ ? "run" : "process";
    result.device_peak_bytes = device::peak_memory_bytes(device_);
    if (!result.repeats.empty())
      result.page_faults_per_repeat = double(page_faults() - faults_start_) / double(result.repeats.size());
    result.contention = contention_between(probe_, contention_probe(), threads_, usable_cores(), load_average_now());
  }

 private:
  c10::Device device_;
  bool rss_reset_ = false;
  int64_t rss_start_ = 0;
  int64_t faults_start_ = 0;  ///< page faults when the first counted repeat began
  CpuTimes cpu_;
  int threads_ = 1;
  ContentionProbe probe_;
};

// The process's first forward call, timed apart (once per session, in the run that makes it). False,
// with `result` a failed record, when the model fails right there: the first step, as for NaN.
bool first_forward(const Session& session, SessionRecord& record, GuidedModel& model, const at::Tensor& t0,
                   RunResult& result) {
  if (record.cold_forward_s) return true;
  try {
    record.cold_forward_s = cold_forward(session, model, result.spec, t0);
  } catch (const ModelError& e) {
    result.status = RunStatus::failed;
    result.error = e.what();
    result.failed_step = 0;
    return false;
  }
  result.cold_forward_s = record.cold_forward_s;
  return true;
}

// What the tiled decode of the last counted repeat showed: its seams, or that nothing was tiled.
void note_tiling(const Session& session, const RunSpec& spec, double overlap_rmse, RunResult& result) {
  if (!session.vae_tiling) return;
  result.vae_tiling_overlap_rmse = overlap_rmse;
  const std::string note = vae_tiling_note(*session.vae_tiling, spec.shape[2], spec.shape[3], overlap_rmse);
  if (!note.empty()) result.plan.notes.push_back(note);
}

void note_onednn(RunResult& result) {  // oneDNN turned off for a bad low-precision convolution (torch_runtime.h)
  const std::string why = onednn_off_reason();
  if (!why.empty()) result.plan.notes.push_back(why);
}

}  // namespace

const char* status_name(RunStatus status) {
  switch (status) {
    case RunStatus::failed: return "failed";
    case RunStatus::interrupted: return "interrupted";
    case RunStatus::ok: break;
  }
  return "ok";
}

RunResult run(const Session& session, SessionRecord& record, const RunSpec& spec, const ProgressFn& progress) {
  c10::InferenceMode inference_guard;
  if (!spec.sampler) throw RuntimeError("a RunSpec without a sampler: resolve() sets it, or find_sampler(name)");
  const SamplerInfo& sampler = *spec.sampler;
  RunResult result;
  result.spec = spec;
  result.process_id = record.process_id;
  const NoiseSchedule schedule(spec.config);
  result.plan = plan_for(sampler, schedule, spec.config, spec.steps);
  GuidedModel model(session, spec);
  result.timing = model.clock().kind();
  const std::vector<at::Tensor> timesteps = timestep_tensors(result.plan, session.device);
  if (!first_forward(session, record, model, timesteps[0], result)) return result;

  FiniteCheck finite(result.plan, session.device);
  int step_reached = -1;
  const int repeats = spec.warmup + spec.repeat;
  ResourceWatch resources(session.device, session.threads, session.trim_before_runs);
  const RepeatContext context{session, spec,      sampler,  schedule, result.plan, model,
                              finite,  timesteps, progress, now_s(),  repeats,     &step_reached};
  try {
    for (int k = 0; k < repeats; ++k) {
      const bool counted = k >= spec.warmup;
      if (k == spec.warmup) resources.counted_repeats_start();
      RepeatOutput output;
      RepeatResult rep =
          one_repeat(context, k, spec.seed + (spec.vary_seed && counted ? uint64_t(k - spec.warmup) : 0), &output);
      if (!counted) continue;
      result.repeats.push_back(std::move(rep));
      if (k == repeats - 1) {
        result.latents = output.latents.to(at::kCPU, at::kFloat).contiguous();
        if (output.images.defined()) result.images = output.images.to(at::kCPU, at::kFloat).contiguous();
        note_tiling(session, spec, output.overlap_rmse, result);
        note_onednn(result);
      }
    }
  } catch (const NonFiniteError& e) {
    result.status = RunStatus::failed;
    result.error = e.what();
    result.failed_step = e.step;
  } catch (const ModelError& e) {  // failed_step == steps: in the VAE decode, after the last step
    result.status = RunStatus::failed;
    result.error = fmt::format("{} (at step {})", e.what(), step_reached + 1);
    result.failed_step = step_reached + 1;
  } catch (const Interrupted& e) {
    result.status = RunStatus::interrupted;
    result.error = fmt::format("stopped by signal {} at step {}", e.signal_number, step_reached + 1);
  }
  resources.finish(result);
  std::vector<double> totals;
  for (const auto& rep : result.repeats) totals.push_back(rep.total_s);
  result.warnings = timing_warnings(totals);
  if (result.contention && result.contention->suspect) {
    result.warnings.push_back(
        "measured under contention: " + result.contention->why +
        "; other processes took the cores, so these timings may be too slow: rerun on a quiet machine");
  }
  return result;
}

}  // namespace diffbench
