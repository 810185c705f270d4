// One measured run: warm-up runs not counted, repeats from the same seed, per-step times
// read only after the device is synchronised, NaN/Inf and signals checked after each step.
#include "diffbench/runner.h"

#include <atomic>
#include <limits>
#include <chrono>
#include <fstream>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "device.h"
#include "process_info.h"
#include "diffbench/errors.h"
#include "diffbench/io.h"
#include "diffbench/statistics.h"

namespace diffbench {
namespace {

std::atomic<int> g_stop_signal{0};

double now_s() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

std::string shape_text(at::IntArrayRef shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

// Latents of this shape, with the model's activations (estimated at 32x the latents: a UNet's
// first feature maps alone are 8-80x), must fit the memory available now. Refusing up front
// beats the kernel's OOM killer, which would take the process and its unwritten results.
void check_memory(const Session& session, const std::vector<int64_t>& shape) {
  double elements = 1;
  for (int64_t d : shape) elements *= double(d);
  double need = elements * 4 * 32;
  if (!session.device.is_cpu()) need = elements * 4;  // device memory: LibTorch reports its own OOM
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  double available_kib = 0, value;
  std::string unit;
  while (meminfo >> key >> value >> unit) {
    if (key == "MemAvailable:") available_kib = value;
  }
  double available = available_kib > 0 ? available_kib * 1024 : 1e18;
  if (need > available) {
    throw UsageError(fmt::format("--shape {} needs about {:.1f} GiB (latents and activations), but only {:.1f} GiB "
                                 "of memory is available; use a smaller batch or resolution",
                                 shape_text(shape), need / (1 << 30), available / (1 << 30)));
  }
}

}  // namespace

const std::string& unet_sha256(const Session& session) {
  if (session.unet_sha256.empty()) session.unet_sha256 = sha256_file(session.unet->path());
  return session.unet_sha256;
}

const std::string& vae_sha256(const Session& session) {
  if (session.vae_sha256.empty() && session.vae) session.vae_sha256 = sha256_file(session.vae->path());
  return session.vae_sha256;
}

void request_stop(int signal_number) { g_stop_signal.store(signal_number); }
int stop_requested() { return g_stop_signal.load(); }

RunSpec resolve(const Session& session, RunSpec spec) {
  const SamplerInfo& sampler = find_sampler(spec.sampler);
  validate(spec.config);
  if (spec.steps == 0) spec.steps = sampler.default_steps;
  if (spec.steps < 0) throw UsageError(fmt::format("--steps must be at least 1, got {}", spec.steps));
  if (spec.shape.empty()) {
    spec.shape = session.unet->sample_shape().value_or(std::vector<int64_t>{1, 4, 64, 64});
  }
  if (spec.shape.size() != 4) {
    throw UsageError(fmt::format("--shape must have 4 dimensions B,C,H,W, got {}", shape_text(spec.shape)));
  }
  for (int64_t d : spec.shape) {
    if (d <= 0) throw UsageError(fmt::format("--shape dimensions must be positive, got {}", shape_text(spec.shape)));
  }
  check_memory(session, spec.shape);
  // DDIM's eta interpolates between the deterministic ODE (0) and DDPM's posterior variance (1);
  // beyond 1 the variance exceeds what the next step can hold and the latents become NaN.
  if (!(spec.eta >= 0 && spec.eta <= 1)) throw UsageError(fmt::format("--eta must be between 0 and 1, got {}", spec.eta));
  if (spec.warmup < 0) throw UsageError(fmt::format("--warmup must be >= 0, got {}", spec.warmup));
  if (spec.repeat < 1) throw UsageError(fmt::format("--repeat must be at least 1, got {}", spec.repeat));
  // The plan checks the step count against the schedule (e.g. LCM's original_inference_steps) now,
  // before any work, and may fix config values the sampler always uses (turbo: trailing spacing).
  Plan plan = sampler.plan(NoiseSchedule(spec.config), spec.config, spec.steps);
  if (plan.timestep_spacing) spec.config.timestep_spacing = *plan.timestep_spacing;
  bool conditional = session.unet->arity() == 3;
  if (!spec.guidance) spec.guidance = conditional ? sampler.default_guidance : 0.0;
  if (*spec.guidance < 0) throw UsageError(fmt::format("--guidance-scale must be >= 0, got {}", *spec.guidance));
  if (!conditional && *spec.guidance > 1) {
    throw UsageError(fmt::format("--guidance-scale {} needs a conditional UNet with forward(sample, timestep, "
                                 "encoder_hidden_states); '{}' takes (sample, timestep)", *spec.guidance,
                                 session.unet->path()));
  }
  if (conditional) {
    if (!session.cond.defined()) throw UsageError("a conditional UNet needs --cond FILE.npy or --cond-shape B,L,D");
    int64_t b = spec.shape[0], cb = session.cond.size(0);
    if (b % cb != 0) {
      throw UsageError(fmt::format("conditioning batch {} does not match the latent batch {} (--shape); "
                                   "give one row, one per sample, or a number of rows that divides the batch (they repeat)", cb, b));
    }
    if (session.uncond.defined() && session.uncond.sizes().slice(1) != session.cond.sizes().slice(1)) {
      throw UsageError(fmt::format("--uncond shape {} does not match --cond shape {}",
                                   shape_text(session.uncond.sizes()), shape_text(session.cond.sizes())));
    }
  }
  return spec;
}

void compare_tensors(const at::Tensor& a, const at::Tensor& ref, double peak, double* rmse, double* max_abs,
                     double* psnr_db) {
  at::Tensor diff = a.to(at::kDouble) - ref.to(at::kDouble);
  *rmse = diff.pow(2).mean().sqrt().item<double>();
  *max_abs = diff.abs().max().item<double>();
  *psnr_db = *rmse > 0 ? 20 * std::log10(peak / *rmse) : std::numeric_limits<double>::infinity();
}

void attach_quality(RunResult& result, const RunResult& reference, const std::string& name, bool stochastic) {
  if (!result.latents.defined() || !reference.latents.defined()) return;
  Quality q;
  q.reference = name;
  q.per_sample = stochastic;
  // Latents have no fixed range: the peak is the reference's own range (max - min).
  double peak = (reference.latents.max() - reference.latents.min()).item<double>();
  compare_tensors(result.latents, reference.latents, peak, &q.rmse, &q.max_abs, &q.psnr_db);
  if (result.images.defined() && reference.images.defined()) {
    q.has_images = true;  // images live in [-1, 1]: peak 2
    compare_tensors(result.images, reference.images, 2.0, &q.image_rmse, &q.image_max_abs, &q.image_psnr_db);
  }
  result.quality = q;
}

RunResult run(Session& session, const RunSpec& spec, const ProgressFn& progress) {
  c10::InferenceMode inference_guard;
  const SamplerInfo& sampler = find_sampler(spec.sampler);
  RunResult result;
  result.spec = spec;
  const double guidance = spec.guidance.value_or(0.0);  // resolve() always sets it
  const NoiseSchedule schedule(spec.config);
  result.plan = plan_for(sampler, schedule, spec.config, spec.steps);
  const Plan& plan = result.plan;
  const c10::Device device = session.device;
  const int64_t batch = spec.shape[0];

  // Conditioning for this batch: [uncond; cond] for classifier-free guidance, else cond alone.
  const bool conditional = session.unet->arity() == 3;
  const bool guided = conditional && guidance > 1.0;
  at::Tensor context;
  if (conditional) {
    // Rows repeat over the batch: 10 class rows and a batch of 50 give each class 5 times.
    auto rows = [&](const at::Tensor& c) { return c.size(0) == batch ? c : c.repeat({batch / c.size(0), 1, 1}); };
    at::Tensor cond = rows(session.cond);
    at::Tensor uncond = session.uncond.defined() ? rows(session.uncond) : at::zeros_like(cond);
    context = (guided ? at::cat({uncond, cond}) : cond).to(device, session.dtype).contiguous();
  }

  // The model as the sampler sees it, timed: sync, clock, forward, sync, clock.
  double model_time = 0;
  const ModelFn model = [&](const at::Tensor& x_in, const at::Tensor& t) {
    device::synchronize(device);
    double start = now_s();
    at::Tensor in = x_in.to(session.dtype);
    if (guided) in = at::cat({in, in});
    at::Tensor out = conditional ? session.unet->forward({in, t, context}) : session.unet->forward({in, t});
    if (out.sizes() != in.sizes()) {
      throw RuntimeError(fmt::format("UNet '{}' returned shape {}; expected {}, the shape of its sample input",
                                     session.unet->path(), shape_text(out.sizes()), shape_text(in.sizes())));
    }
    if (!at::isFloatingType(out.scalar_type())) {
      throw RuntimeError(fmt::format("UNet '{}' returned dtype {}; expected a floating-point tensor",
                                     session.unet->path(), c10::toString(out.scalar_type())));
    }
    out = out.to(at::kFloat);
    if (guided) {
      auto halves = out.chunk(2);
      out = halves[0] + guidance * (halves[1] - halves[0]);
    }
    device::synchronize(device);
    model_time += now_s() - start;
    return out;
  };

  std::vector<at::Tensor> timesteps;
  for (double t : plan.timesteps) {
    timesteps.push_back(plan.integer_timesteps ? at::scalar_tensor(static_cast<int64_t>(t), at::kLong).to(device)
                                               : at::scalar_tensor(t, at::kFloat).to(device));
  }

  // The first forward call after loading is slow (TorchScript profiling): timed on its own.
  if (!session.cold_forward_s) {
    double start = now_s();
    try {
      model(at::zeros(spec.shape, at::TensorOptions().dtype(at::kFloat).device(device)), timesteps[0]);
    } catch (const RuntimeError& e) {
      std::string what = e.what();
      if (session.dtype != at::kFloat && what.find("not implemented for") != std::string::npos) {
        throw UsageError(fmt::format("--dtype {} is not supported on {} by this LibTorch ({}); use --dtype fp32{}",
                                     dtype_name(session.dtype), device.str(), what.substr(what.rfind(": ") + 2),
                                     device.is_cpu() ? " or bf16" : ""));
      }
      throw;
    }
    session.cold_forward_s = now_s() - start;
    result.cold_forward_s = session.cold_forward_s;
  }

  const int total_runs = spec.warmup + spec.repeat;
  int step_reached = -1;
  at::Tensor step_sums;  // CUDA: per-step latent sums, checked after the repeat
  auto non_finite = [&](int i) {
    return NonFiniteError(fmt::format("latents became NaN/Inf at step {} (t={}); the model output is not finite", i,
                                      plan.timesteps[i]), i);
  };
  device::reset_peak_memory(device);
  const bool rss_reset = reset_peak_rss();
  const CpuTimes cpu_start = cpu_times();
  const double run_start = now_s();
  try {
    for (int k = 0; k < total_runs; ++k) {
      const bool counted = k >= spec.warmup;
      RepeatResult rep;
      rep.seed = spec.seed + (spec.vary_seed && counted ? uint64_t(k - spec.warmup) : 0);
      rep.step_s.assign(plan.steps(), 0.0);
      rep.model_s.assign(plan.steps(), 0.0);
      at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(rep.seed);

      device::synchronize(device);
      const double start = now_s();
      at::Tensor x = at::randn(spec.shape, generator, at::TensorOptions().dtype(at::kFloat));
      x = (x * static_cast<float>(plan.init_noise_sigma)).to(device);
      device::synchronize(device);
      double last = now_s();
      rep.init_noise_s = last - start;
      model_time = 0;

      SampleArgs args{schedule, spec.config, plan, model, generator, spec.eta, timesteps, nullptr};
      args.on_step_end = [&](int i, const at::Tensor& latents) {
        device::synchronize(device);
        double now = now_s();
        rep.step_s[i] = now - last;
        rep.model_s[i] = model_time;
        model_time = 0;
        step_reached = i;
        // One reduction: a sum is finite exactly when no element is NaN/Inf (barring overflow, re-checked).
        // On CUDA the sums stay on the device and are read once per repeat: no copy to the host per step.
        if (device.is_cuda()) {
          step_sums[i] = latents.sum();
        } else if (!std::isfinite(latents.sum().item<float>()) && !latents.isfinite().all().item<bool>()) {
          throw non_finite(i);
        }
        if (int sig = stop_requested()) throw Interrupted(sig);
        if (progress) progress({k, total_runs, i + 1, plan.steps(), now - run_start});
        last = now_s();  // the checks above are not charged to the next step
      };
      step_reached = -1;
      if (device.is_cuda()) step_sums = at::zeros({plan.steps()}, at::TensorOptions().dtype(at::kFloat).device(device));
      x = sampler.sample(args, x);
      if (device.is_cuda()) {
        at::Tensor bad = (~step_sums.isfinite()).nonzero();  // the one host read of this repeat
        if (bad.numel() > 0) throw non_finite(static_cast<int>(bad[0][0].item<int64_t>()));
      }
      const double sampled = now_s();

      at::Tensor images;
      if (session.vae) {
        images = session.vae->forward({(x / session.vae_scaling_factor).to(session.dtype)});
        device::synchronize(device);
        rep.vae_s = now_s() - sampled;
      }
      rep.total_s = now_s() - start;
      double steps_sum = 0;
      for (double s : rep.step_s) steps_sum += s;
      rep.rest_s = std::max(0.0, rep.total_s - rep.init_noise_s - steps_sum - rep.vae_s);
      if (counted) {
        result.repeats.push_back(std::move(rep));
        if (k == total_runs - 1) {
          result.latents = x.to(at::kCPU, at::kFloat).contiguous();
          if (images.defined()) result.images = images.to(at::kCPU, at::kFloat).contiguous();
        }
      }
    }
  } catch (const NonFiniteError& e) {
    result.status = "failed";
    result.error = e.what();
    result.failed_step = e.step;
  } catch (const Interrupted& e) {
    result.status = "interrupted";
    result.error = fmt::format("stopped by signal {} at step {}", e.signal_number, step_reached + 1);
  }
  const CpuTimes cpu_end = cpu_times();
  result.cpu_user_s = cpu_end.user - cpu_start.user;
  result.cpu_sys_s = cpu_end.sys - cpu_start.sys;
  result.peak_rss_bytes = peak_rss_bytes(rss_reset);
  result.peak_rss_scope = rss_reset ? "run" : "process";
  result.device_peak_bytes = device::peak_memory_bytes(device);
  std::vector<double> totals;
  for (const auto& rep : result.repeats) totals.push_back(rep.total_s);
  result.warnings = timing_warnings(totals);
  return result;
}

}  // namespace diffbench
