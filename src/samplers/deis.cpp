// DEIS: Zhang & Chen, "Fast Sampling of Diffusion Models with Exponential Integrator" (2023), the
// multistep exponential integrator in log-rho (rho = sigma / alpha), as diffusers'
// DEISMultistepScheduler with its defaults: order 2, noise (epsilon) extrapolated by a polynomial
// integrated exactly in log rho; order 1 at the first step and, below 15 steps, at the last. It
// ends at the schedule's smallest sigma, not at 0 (DEIS returns those latents, no final x0).
#include <ATen/ATen.h>

#include <cmath>

#include "samplers/common.h"

namespace diffbench {
namespace {

// The integral of the Lagrange basis polynomial through log rho_b, log rho_c, up to rho_t (the
// deis "ind_fn"): t (log t - log c - 1) / (log b - log c).
float ind(float t, float b, float c) { return t * (-std::log(c) + std::log(t) - 1.0f) / (std::log(b) - std::log(c)); }

at::Tensor sample_deis(const SampleArgs& a, at::Tensor x) {
  const int n = a.plan.steps();
  at::Tensor eps_prev;
  for (int i = 0; i < n; ++i) {
    const samplers::AlphaSigma s = samplers::alpha_sigma(a.plan.sigmas[i]);
    const samplers::AlphaSigma t = samplers::alpha_sigma(a.plan.sigmas[i + 1]);
    at::Tensor x0 = a.denoiser.x0_from_alpha_sigma(a.call_model(i, x), x, s.alpha, s.sigma);
    at::Tensor eps = (x - s.alpha * x0) / s.sigma;  // DEIS integrates the noise prediction
    if (i == 0 || (i == n - 1 && n < 15)) {  // first order: the exponential integrator (DDIM)
      const float h = t.lambda - s.lambda;
      x = (t.alpha / s.alpha) * x - (t.sigma * (std::exp(h) - 1.0f)) * eps;
    } else {
      const samplers::AlphaSigma p = samplers::alpha_sigma(a.plan.sigmas[i - 1]);
      const float rho_t = t.sigma / t.alpha, rho_s0 = s.sigma / s.alpha, rho_s1 = p.sigma / p.alpha;
      const float coef1 = ind(rho_t, rho_s0, rho_s1) - ind(rho_s0, rho_s0, rho_s1);
      const float coef2 = ind(rho_t, rho_s1, rho_s0) - ind(rho_s0, rho_s1, rho_s0);
      x = t.alpha * (x / s.alpha + coef1 * eps + coef2 * eps_prev);
    }
    eps_prev = eps;
    a.end_step(i, x);
  }
  return x;
}

// DPM-Solver's grid, ending at the schedule's smallest sigma (or, on Karras sigmas, at the last one
// again) instead of 0, as DEISMultistepScheduler.
Plan deis_plan(const NoiseSchedule& schedule, const SchedulerConfig& c, int steps) {
  Plan plan = samplers::dpm_plan("deis", schedule, c, steps);
  plan.sigmas.back() = c.use_karras_sigmas ? plan.sigmas[plan.steps() - 1] : double(schedule.sigmas().front());
  return plan;
}

}  // namespace

extern const SamplerInfo deis_sampler{
    .name = "deis",
    .description = "DEIS: order-2 multistep exponential integrator in log rho (deterministic)",
    .paper = "Zhang & Chen 2023 (arXiv:2204.13902)",
    .default_steps = 20,
    .stochastic = false,
    .default_guidance = 7.5,
    .plan = deis_plan,
    .sample = sample_deis,
    .uses_karras = true};

}  // namespace diffbench
