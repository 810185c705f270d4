// A RunSpec checked against the session before any work: defaults filled, every impossible
// combination refused with a UsageError that says what to change.
#include <cmath>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diffbench/errors.h"
#include "diffbench/runner.h"
#include "diffbench/setting_names.h"

namespace diffbench {
namespace {

std::string bracketed_shape(at::IntArrayRef shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

double available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key, unit;
  double value, available_kib = 0;
  while (meminfo >> key >> value >> unit) {
    if (key == "MemAvailable:") available_kib = value;
  }
  return available_kib > 0 ? available_kib * 1024 : 1e18;
}

}  // namespace

// Latents of this shape, with the model's activations (estimated at 32x the latents: a UNet's first
// feature maps alone are 8-80x), must fit the memory available now. Refusing up front beats the
// kernel's OOM killer, which would take the process and its unwritten results.
std::string memory_refusal(const std::vector<int64_t>& shape, bool on_cpu, double available_bytes) {
  double elements = 1;
  for (int64_t d : shape) elements *= double(d);
  const double need = elements * 4 * (on_cpu ? 32 : 1);  // device memory: LibTorch reports its own OOM
  if (need <= available_bytes) return "";
  return fmt::format(
      "{} {} needs about {:.3g} GiB (latents and activations), but only {:.3g} GiB of memory is "
      "available; use a smaller batch or resolution",
      setting_name("shape"), bracketed_shape(shape), need / (1 << 30), available_bytes / (1 << 30));
}

namespace {

// A conditional UNet's conditioning: present, its batch dividing the latents', uncond alike.
void check_conditioning(const Session& session, int64_t b) {
  if (!session.cond.defined())
    throw UsageError(fmt::format("a conditional UNet needs {} FILE.npy or {} B,L,D", setting_name("cond"),
                                 setting_name("cond_shape")));
  const int64_t cb = session.cond.size(0);
  if (b % cb != 0) {
    throw UsageError(
        fmt::format("conditioning batch {} does not match the latent batch {} ({}); "
                    "give one row, one per sample, or a number of rows that divides the batch (they repeat)",
                    cb, b, setting_name("shape")));
  }
  if (session.uncond.defined() && session.uncond.sizes().slice(1) != session.cond.sizes().slice(1)) {
    throw UsageError(fmt::format("{} shape {} does not match {} shape {}", setting_name("uncond"),
                                 bracketed_shape(session.uncond.sizes()), setting_name("cond"),
                                 bracketed_shape(session.cond.sizes())));
  }
}

}  // namespace

RunSpec resolve(const Session& session, RunSpec spec) {
  const SamplerInfo& sampler = find_sampler(spec.sampler);
  validate(spec.config);
  if (spec.steps == 0) spec.steps = sampler.default_steps;
  if (spec.steps < 0) throw UsageError(fmt::format("{} must be at least 1, got {}", setting_name("steps"), spec.steps));
  if (spec.shape.empty()) {
    spec.shape = session.unet->sample_shape().value_or(std::vector<int64_t>{1, 4, 64, 64});
  }
  if (spec.shape.size() != 4) {
    throw UsageError(
        fmt::format("{} must have 4 dimensions B,C,H,W, got {}", setting_name("shape"), bracketed_shape(spec.shape)));
  }
  for (int64_t d : spec.shape) {
    if (d <= 0)
      throw UsageError(
          fmt::format("{} dimensions must be positive, got {}", setting_name("shape"), bracketed_shape(spec.shape)));
  }
  std::string refusal = memory_refusal(spec.shape, session.device.is_cpu(), available_memory_bytes());
  if (!refusal.empty()) throw UsageError(refusal);
  // DDIM's eta interpolates between the deterministic ODE (0) and DDPM's posterior variance (1);
  // beyond 1 the variance exceeds what the next step can hold and the latents become NaN.
  if (!(spec.eta >= 0 && spec.eta <= 1))
    throw UsageError(fmt::format("{} must be between 0 and 1, got {}", setting_name("eta"), spec.eta));
  if (spec.warmup < 0) throw UsageError(fmt::format("{} must be >= 0, got {}", setting_name("warmup"), spec.warmup));
  if (spec.repeat < 1)
    throw UsageError(fmt::format("{} must be at least 1, got {}", setting_name("repeat"), spec.repeat));
  // The plan checks the step count against the schedule (e.g. LCM's original_inference_steps) now,
  // before any work, and may fix config values the sampler always uses (turbo: trailing spacing).
  Plan plan = sampler.plan(NoiseSchedule(spec.config), spec.config, spec.steps);
  if (plan.timestep_spacing) spec.config.timestep_spacing = *plan.timestep_spacing;
  bool conditional = session.unet->arity() == 3;
  if (!spec.guidance) spec.guidance = conditional ? sampler.default_guidance : 0.0;
  if (!(std::isfinite(*spec.guidance) && *spec.guidance >= 0)) {  // NaN passed "< 0" and ran as NaN latents
    throw UsageError(
        fmt::format("{} must be a finite number >= 0, got {}", setting_name("guidance_scale"), *spec.guidance));
  }
  if (!conditional && *spec.guidance > 1) {
    throw UsageError(
        fmt::format("{} {} needs a conditional UNet with forward(sample, timestep, "
                    "encoder_hidden_states); '{}' takes (sample, timestep)",
                    setting_name("guidance_scale"), *spec.guidance, session.unet->path()));
  }
  if (conditional) check_conditioning(session, spec.shape[0]);
  return spec;
}

}  // namespace diffbench
