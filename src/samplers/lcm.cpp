// LCM: Luo et al., "Latent Consistency Models" (2023), Algorithm 1 (multistep consistency
// sampling): each step predicts x0 under the boundary condition c_skip x + c_out x0_pred, then
// re-noises to the next timestep of the distillation grid; the last step returns the prediction.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/setting_names.h"
#include "samplers/common.h"

namespace diffbench {
namespace {

Plan plan_lcm(const NoiseSchedule& schedule, const SchedulerConfig& config, int steps) {
  samplers::check_steps("lcm", steps, schedule);
  const int original = config.original_inference_steps;
  if (original > schedule.size()) {
    throw UsageError(
        fmt::format("lcm: original_inference_steps {} exceeds the schedule's {} timesteps", original, schedule.size()));
  }
  if (steps > original) {
    throw UsageError(
        fmt::format("lcm: {} {} is more than the {} steps LCM was distilled on "
                    "(original_inference_steps); use at most {}",
                    setting_name("steps"), steps, original, original));
  }
  const int k = schedule.size() / original;
  Plan plan;
  for (int i = 0; i < steps; ++i) {
    auto index = static_cast<int>(std::floor(i * (double(original) / steps)));  // linspace, no endpoint
    plan.timesteps.push_back(double((original - index) * k - 1));
  }
  for (double t : plan.timesteps) {
    plan.sigmas.push_back(schedule.sigmas()[static_cast<int>(t)]);
    plan.alphas_cumprod.push_back(schedule.alphas_cumprod()[static_cast<int>(t)]);
  }
  plan.sigmas.push_back(0.0);
  return plan;
}

at::Tensor sample_lcm(const SampleArgs& a, at::Tensor x) {
  const int n = a.plan.steps();
  const float sigma_data = 0.5f;
  for (int i = 0; i < n; ++i) {
    auto t = static_cast<int64_t>(a.plan.timesteps[i]);
    at::Tensor out = a.call_model(i, x);
    float alpha = a.schedule.alpha_cumprod(t);
    float scaled_t = static_cast<float>(t) * static_cast<float>(a.config.timestep_scaling);
    float c_skip = sigma_data * sigma_data / (scaled_t * scaled_t + sigma_data * sigma_data);
    float c_out = scaled_t / std::sqrt(scaled_t * scaled_t + sigma_data * sigma_data);
    at::Tensor x0 = a.denoiser.clip(a.denoiser.x0_from_alpha_prod(out, x, alpha));
    at::Tensor denoised = c_out * x0 + c_skip * x;
    if (i + 1 < n) {
      float alpha_next = a.schedule.alpha_cumprod(static_cast<int64_t>(a.plan.timesteps[i + 1]));
      x = std::sqrt(alpha_next) * denoised + std::sqrt(1 - alpha_next) * a.noise_like(denoised);
    } else {
      x = denoised;
    }
    a.end_step(i, x);
  }
  return x;
}

}  // namespace

extern const SamplerInfo lcm_sampler{
    .name = "lcm",
    .description = "Latent Consistency Model: multistep consistency sampling, 1-8 steps",
    .paper = "Luo et al. 2023 (arXiv:2310.04378)",
    .default_steps = 4,
    .stochastic = true,
    .default_guidance = 1.0,
    .plan = plan_lcm,
    .sample = sample_lcm};

}  // namespace diffbench
