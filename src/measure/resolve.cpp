// A RunSpec checked against the session before any work: defaults filled, every impossible
// combination refused with a UsageError that says what to change.
#include <cmath>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diffbench/core/errors.h"
#include "diffbench/measure/runner.h"
#include "diffbench/measure/session.h"
#include "diffbench/measure/resolve.h"
#include "diffbench/schedule/flow.h"
#include "diffbench/schedule/sampler.h"
#include "diffbench/samplers/registry.h"
#include "diffbench/schedule/schedule.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/schedule/scheduler_overrides.h"
#include "diffbench/measure/memory_guard.h"

namespace diffbench {
namespace {

std::string bracketed_shape(at::IntArrayRef shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

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

// A conditional UNet's conditioning: present, uncond of cond's shape. Any batch works: sample i takes
// row i mod N of N rows (a manifest's ten digit classes give batch 4 the digits 0-3, batch 20 each
// class twice), so a batch the conditioning was not written for is never an error.
void check_conditioning(const Session& session) {
  if (!session.cond.defined())
    throw UsageError(fmt::format("a conditional UNet needs {} FILE.npy or {} B,L,D", setting_name("cond"),
                                 setting_name("cond_shape")));
  if (session.uncond.defined() && session.uncond.sizes().slice(1) != session.cond.sizes().slice(1)) {
    throw UsageError(fmt::format("{} shape {} does not match {} shape {}", setting_name("uncond"),
                                 bracketed_shape(session.uncond.sizes()), setting_name("cond"),
                                 bracketed_shape(session.cond.sizes())));
  }
}

}  // namespace

namespace {

std::vector<int64_t> shape_for(const Session& session, const SpecRequest& r) {
  std::vector<int64_t> shape =
      r.shape ? *r.shape : session.unet->sample_shape().value_or(std::vector<int64_t>{1, 4, 64, 64});
  if (r.batch && !shape.empty()) shape[0] = *r.batch;
  if (shape.size() != 4) {
    throw UsageError(
        fmt::format("{} must have 4 dimensions B,C,H,W, got {}", setting_name("shape"), bracketed_shape(shape)));
  }
  for (int64_t d : shape) {
    if (d <= 0)
      throw UsageError(
          fmt::format("{} dimensions must be positive, got {}", setting_name("shape"), bracketed_shape(shape)));
  }
  const auto& own = session.unet->sample_shape();
  if (own && own->size() == 4 && shape[1] != (*own)[1]) {
    throw UsageError(
        fmt::format("'{}' takes latents with {} channels (its manifest's sample_shape), but {} gives {}: keep C = {}",
                    session.unet->path(), (*own)[1], setting_name("shape"), shape[1], (*own)[1]));
  }
  std::string refusal = memory_refusal(shape, session.device.is_cpu(), available_memory_bytes());
  if (!refusal.empty()) throw UsageError(refusal);
  return shape;
}

// A config that contradicts what the model was trained with would measure a model that does not
// exist: refused, saying which setting to change.
void check_against_model(const Session& session, const SchedulerOverrides& o, const SchedulerConfig& c) {
  const ModelManifest& m = session.manifest;
  const std::string given =
      o.file ? fmt::format("{} '{}'", setting_name("config"), o.file_path) : setting_name("prediction_type");
  if (m.prediction_type && *m.prediction_type != c.prediction_type) {
    throw UsageError(
        fmt::format("'{}' predicts {} (its manifest), but {} says prediction_type {}: drop it, or give "
                    "a config that matches the model",
                    session.unet->path(), name_of(*m.prediction_type), given, name_of(c.prediction_type)));
  }
  if (m.scheduler_config && m.scheduler_config->num_train_timesteps != c.num_train_timesteps) {
    const std::string what = o.file ? given : setting_name("num_train_timesteps");
    throw UsageError(
        fmt::format("'{}' was trained on {} timesteps (its scheduler config), but {} has "
                    "num_train_timesteps {}: use the model's config, or one with the same schedule",
                    session.unet->path(), m.scheduler_config->num_train_timesteps, what, c.num_train_timesteps));
  }
}

// What a flow pipeline hands its scheduler: the manifest's sigmas, and the dynamic shift's mu from
// the image's token count (latent H x W in patches), unless a mu was asked for.
void settle_flow(const ModelManifest& m, RunSpec& spec) {
  if (m.flow_sigmas) spec.config.flow_sigmas = *m.flow_sigmas;
  if (spec.config.use_dynamic_shifting && !spec.config.mu) {
    const int64_t tokens = image_seq_len(spec.shape[2], spec.shape[3], m.patch_size.value_or(2));
    spec.config.mu = flow_mu(spec.config, static_cast<double>(tokens));
  }
}

void check_numbers(const RunSpec& spec) {
  if (spec.steps < 1) throw UsageError(fmt::format("{} must be at least 1, got {}", setting_name("steps"), spec.steps));
  // DDIM's eta interpolates between the deterministic ODE (0) and DDPM's posterior variance (1);
  // beyond 1 the variance exceeds what the next step can hold and the latents become NaN.
  if (!(spec.eta >= 0 && spec.eta <= 1))
    throw UsageError(fmt::format("{} must be between 0 and 1, got {}", setting_name("eta"), spec.eta));
  if (spec.warmup < 0) throw UsageError(fmt::format("{} must be >= 0, got {}", setting_name("warmup"), spec.warmup));
  if (spec.repeat < 1)
    throw UsageError(fmt::format("{} must be at least 1, got {}", setting_name("repeat"), spec.repeat));
}

// The guidance scale: the request's, else the manifest's (said in from_manifest, where it is decided),
// else the sampler's default on a conditional UNet, else none.
void settle_guidance(const Session& session, const SamplerInfo& sampler, const SpecRequest& r, Resolution& out) {
  RunSpec& spec = out.spec;
  const bool conditional = session.unet->arity() == 3;
  spec.guidance = r.guidance                        ? r.guidance
                  : session.manifest.guidance_scale ? session.manifest.guidance_scale
                  : conditional                     ? sampler.default_guidance
                                                    : 0.0;
  if (!r.guidance && session.manifest.guidance_scale)
    out.from_manifest.push_back(fmt::format("guidance_scale={:g}", *spec.guidance));
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
  if (conditional) check_conditioning(session);
}

// A compiled package takes the sizes it was compiled for; under guidance the UNet sees 2B latents.
void check_model_shapes(const Session& session, const RunSpec& spec) {
  std::vector<int64_t> seen = spec.shape;
  if (uses_guidance(session, spec)) seen[0] *= 2;
  std::string refused = session.unet->shape_refusal(seen);
  if (refused.empty() && session.vae) refused = session.vae->shape_refusal(spec.shape);
  if (!refused.empty()) throw UsageError(refused);
}

}  // namespace

bool uses_guidance(const Session& session, const RunSpec& spec) {
  return session.unet->arity() == 3 && spec.guidance.value_or(0.0) > 1.0;
}

Resolution resolve(const Session& session, const SpecRequest& r) {
  const SamplerInfo& sampler = find_sampler(r.sampler);
  const ModelManifest& m = session.manifest;
  Resolution out;
  RunSpec& spec = out.spec;
  spec.sampler = &sampler;
  spec.steps = r.steps ? *r.steps : m.sampler == r.sampler && m.steps ? *m.steps : sampler.default_steps;
  if (!r.steps && m.sampler == r.sampler && m.steps)
    out.from_manifest.push_back(
        fmt::format("{} step{} for {}", spec.steps, spec.steps == 1 ? "" : "s", spec.sampler->name));
  spec.config = apply_overrides(m.scheduler_config.value_or(SchedulerConfig{}), r.scheduler);
  if (m.scheduler_config && !r.scheduler.file) {  // the model's schedule, for every sampler run on it
    out.from_manifest.push_back("scheduler config " + m.scheduler_config_source);
    out.warnings = m.warnings;
  }
  check_against_model(session, r.scheduler, spec.config);
  spec.shape = shape_for(session, r);
  settle_flow(m, spec);
  spec.seed = r.seed;
  spec.eta = r.eta;
  spec.warmup = r.warmup;
  spec.repeat = r.repeat;
  spec.vary_seed = r.vary_seed;
  check_numbers(spec);
  // The plan checks the step count against the schedule (e.g. LCM's original_inference_steps) now,
  // before any work, and may fix config values the sampler always uses (turbo: trailing spacing).
  Plan plan = plan_for(sampler, NoiseSchedule(spec.config), spec.config, spec.steps);
  if (plan.timestep_spacing) spec.config.timestep_spacing = *plan.timestep_spacing;
  settle_guidance(session, sampler, r, out);
  check_model_shapes(session, spec);
  return out;
}

std::optional<std::string> eta_warning(double eta, const std::vector<std::string>& samplers) {
  if (eta <= 0) return std::nullopt;
  for (const auto& name : samplers) {
    if (!find_sampler(name).uses_eta) {
      return fmt::format("{} applies to {} only; other samplers ignore it", setting_name("eta"),
                         fmt::join(eta_samplers(), ", "));
    }
  }
  return std::nullopt;
}

}  // namespace diffbench
