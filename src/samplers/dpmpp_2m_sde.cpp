// DPM-Solver++(2M) SDE: Lu et al., "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion
// Probabilistic Models" (2022), the second-order multistep solver of the diffusion SDE in its
// data-prediction form (midpoint), as diffusers' DPMSolverMultistepScheduler with
// algorithm_type "sde-dpmsolver++": each step keeps exp(-h) of the latents' noise and adds fresh
// noise of size sigma_t sqrt(1 - exp(-2h)) from the run's generator; first order at the first
// and last step (final sigma 0 returns the x0 prediction).
#include <ATen/ATen.h>

#include "samplers/common.h"

namespace diffbench {
namespace {

at::Tensor sample_dpmpp_2m_sde(const SampleArgs& a, at::Tensor x) {
  const int n = a.plan.steps();
  at::Tensor previous_x0;
  for (int i = 0; i < n; ++i) {
    const samplers::DpmStep d = samplers::dpm_step(a, i, x);
    at::Tensor noise = a.noise_like(x);  // drawn every step, the last too, as diffusers does
    float keep = d.t.sigma / d.s.sigma * std::exp(-d.h);
    float gain = d.t.alpha * (1.0f - std::exp(-2.0f * d.h));
    float spread = d.t.sigma * std::sqrt(1.0f - std::exp(-2.0f * d.h));
    if (i == 0 || i == n - 1) {  // first order
      x = keep * x + gain * d.x0 + spread * noise;
    } else {
      at::Tensor d1 = (1.0f / d.r) * (d.x0 - previous_x0);
      x = keep * x + gain * d.x0 + 0.5f * gain * d1 + spread * noise;
    }
    previous_x0 = d.x0;
    a.end_step(i, x);
  }
  return x;
}

}  // namespace

extern const SamplerInfo dpmpp_2m_sde_sampler{
    .name = "dpmpp_2m_sde",
    .description = "DPM-Solver++ 2M SDE: second-order multistep SDE solver on the data prediction (stochastic)",
    .paper = "Lu et al. 2022 (arXiv:2211.01095)",
    .default_steps = 20,
    .stochastic = true,
    .default_guidance = 7.5,
    .plan = [](const NoiseSchedule& s, const SchedulerConfig& c,
               int steps) { return samplers::dpm_plan("dpmpp_2m_sde", s, c, steps); },
    .sample = sample_dpmpp_2m_sde,
    .uses_karras = true};

}  // namespace diffbench
