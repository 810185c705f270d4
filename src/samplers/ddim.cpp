// DDIM: Song, Meng & Ermon, "Denoising Diffusion Implicit Models" (2021), eq. 12;
// eta interpolates between the deterministic sampler (0) and DDPM-like noise (1).
#include <ATen/ATen.h>

#include "samplers/common.h"

namespace diffbench {

static at::Tensor sample_ddim(const SampleArgs& a, at::Tensor x) {
  const int n = a.plan.steps();
  const int stride = a.schedule.size() / n;  // diffusers: previous t is t - T // steps, whatever the spacing
  const float final_alpha = a.config.set_alpha_to_one ? 1.0f : a.schedule.alphas_cumprod()[0];
  for (int i = 0; i < n; ++i) {
    auto t = static_cast<int64_t>(a.plan.timesteps[i]);
    at::Tensor out = a.call_model(i, x);
    float alpha = a.schedule.alpha_cumprod(t);
    float alpha_prev = t - stride >= 0 ? a.schedule.alpha_cumprod(t - stride) : final_alpha;
    Prediction p = a.denoiser.from_alpha_prod(out, x, alpha);
    at::Tensor x0 = a.denoiser.clip(p.x0);
    float variance = (1 - alpha_prev) / (1 - alpha) * (1 - alpha / alpha_prev);
    float std_dev = static_cast<float>(a.eta) * std::sqrt(variance);
    x = std::sqrt(alpha_prev) * x0 + std::sqrt(1 - alpha_prev - std_dev * std_dev) * p.eps;
    if (a.eta > 0) x = x + std_dev * a.noise_like(x);
    a.end_step(i, x);
  }
  return x;
}

extern const SamplerInfo ddim_sampler{
    .name = "ddim",
    .description = "Denoising Diffusion Implicit Models: deterministic at eta 0, skips steps",
    .paper = "Song, Meng & Ermon 2021 (arXiv:2010.02502)",
    .default_steps = 50,
    .stochastic = false,
    .default_guidance = 7.5,
    .plan = [](const NoiseSchedule& s, const SchedulerConfig& c,
               int steps) { return samplers::discrete_plan("ddim", s, c, steps); },
    .sample = sample_ddim,
    .uses_eta = true};

}  // namespace diffbench
