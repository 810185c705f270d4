// DPM-Solver++(3M) SDE: Lu et al., "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion
// Probabilistic Models" (2022), the third-order multistep solver of the diffusion SDE in its
// data-prediction form, as diffusers' DPMSolverMultistepScheduler with algorithm_type
// "sde-dpmsolver++" and solver_order 3: the first and second differences of the last three x0
// predictions (D1, D2) extrapolate the data term, exp(-h) of the latents' noise is kept and fresh
// noise of size sigma_t sqrt(1 - exp(-2h)) is drawn from the run's generator every step. The order
// ramps up (first, second, then third) and comes down at the end as diffusers' lower_order_final
// does: the last step is first order, and below 15 steps the one before is second order.
#include <ATen/ATen.h>

#include "samplers/common.h"

namespace diffbench {
namespace {

at::Tensor sample_dpmpp_3m_sde(const SampleArgs& a, at::Tensor x) {
  const int n = a.plan.steps();
  at::Tensor x0_1, x0_2;  // the x0 predictions one and two steps back
  for (int i = 0; i < n; ++i) {
    const samplers::DpmStep d = samplers::dpm_step(a, i, x);
    at::Tensor noise = a.noise_like(x);  // drawn every step, the last too, as diffusers does
    const float e2h = 1.0f - std::exp(-2.0f * d.h);
    const float keep = d.t.sigma / d.s.sigma * std::exp(-d.h);
    const float gain = d.t.alpha * e2h;
    const float spread = d.t.sigma * std::sqrt(e2h);
    const bool second = i == 1 || (i == n - 2 && n < 15);
    if (i == 0 || i == n - 1) {  // first order
      x = keep * x + gain * d.x0 + spread * noise;
    } else if (second) {
      at::Tensor d1 = (1.0f / d.r) * (d.x0 - x0_1);
      x = keep * x + gain * d.x0 + 0.5f * gain * d1 + spread * noise;
    } else {
      const float r0 = d.r;
      const float r1 =
          (samplers::alpha_sigma(a.plan.sigmas[i - 1]).lambda - samplers::alpha_sigma(a.plan.sigmas[i - 2]).lambda) /
          d.h;
      at::Tensor d1_0 = (1.0f / r0) * (d.x0 - x0_1), d1_1 = (1.0f / r1) * (x0_1 - x0_2);
      at::Tensor d1 = d1_0 + (r0 / (r0 + r1)) * (d1_0 - d1_1);
      at::Tensor d2 = (1.0f / (r0 + r1)) * (d1_0 - d1_1);
      const float c1 = d.t.alpha * (e2h / (-2.0f * d.h) + 1.0f);
      const float c2 = d.t.alpha * ((e2h - 2.0f * d.h) / ((2.0f * d.h) * (2.0f * d.h)) - 0.5f);
      x = keep * x + gain * d.x0 + c1 * d1 + c2 * d2 + spread * noise;
    }
    x0_2 = x0_1;
    x0_1 = d.x0;
    a.end_step(i, x);
  }
  return x;
}

}  // namespace

extern const SamplerInfo dpmpp_3m_sde_sampler{
    .name = "dpmpp_3m_sde",
    .description = "DPM-Solver++ 3M SDE: third-order multistep SDE solver on the data prediction (stochastic)",
    .paper = "Lu et al. 2022 (arXiv:2211.01095)",
    .default_steps = 20,
    .stochastic = true,
    .default_guidance = 7.5,
    .plan = [](const NoiseSchedule& s, const SchedulerConfig& c,
               int steps) { return samplers::dpm_plan("dpmpp_3m_sde", s, c, steps); },
    .sample = sample_dpmpp_3m_sde,
    .uses_karras = true};

}  // namespace diffbench
