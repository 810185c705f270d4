// DDPM: Ho, Jain & Abbeel, "Denoising Diffusion Probabilistic Models" (2020), Algorithm 2,
// on a strided timestep grid with the posterior q(x_{t'} | x_t, x0) and its fixed-small variance.
#include <ATen/ATen.h>

#include "samplers/common.h"

namespace diffbench {

static at::Tensor sample_ddpm(const SampleArgs& a, at::Tensor x) {
  const int n = a.plan.steps();
  for (int i = 0; i < n; ++i) {
    auto t = static_cast<int64_t>(a.plan.timesteps[i]);
    int64_t prev_t = i + 1 < n ? static_cast<int64_t>(a.plan.timesteps[i + 1]) : -1;
    at::Tensor out = a.call_model(i, x);
    float alpha = a.schedule.alpha_cumprod(t);
    float alpha_prev = prev_t >= 0 ? a.schedule.alpha_cumprod(prev_t) : 1.0f;
    float beta = 1 - alpha, beta_prev = 1 - alpha_prev;
    float step_alpha = alpha / alpha_prev, step_beta = 1 - step_alpha;
    at::Tensor x0 = a.denoiser.clip(a.denoiser.x0_from_alpha_prod(out, x, alpha));
    float x0_coeff = std::sqrt(alpha_prev) * step_beta / beta;
    float x_coeff = std::sqrt(step_alpha) * beta_prev / beta;
    x = x0_coeff * x0 + x_coeff * x;
    if (t > 0) {
      float variance = std::max(beta_prev / beta * step_beta, 1e-20f);
      x = x + std::sqrt(variance) * a.noise_like(x);
    }
    a.end_step(i, x);
  }
  return x;
}

extern const SamplerInfo ddpm_sampler{
    .name = "ddpm",
    .description = "Denoising Diffusion Probabilistic Models: ancestral sampling, noise every step",
    .paper = "Ho, Jain & Abbeel 2020 (arXiv:2006.11239)",
    .default_steps = 1000,
    .stochastic = true,
    .default_guidance = 7.5,
    .plan = [](const NoiseSchedule& s, const SchedulerConfig& c,
               int steps) { return samplers::discrete_plan("ddpm", s, c, steps); },
    .sample = sample_ddpm};

}  // namespace diffbench
