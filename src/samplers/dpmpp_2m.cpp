// DPM-Solver++(2M): Lu et al., "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion
// Probabilistic Models" (2022), Algorithm 2 (multistep, data prediction), midpoint form;
// first order at the first step and at the last (final sigma 0 returns the x0 prediction).
#include <ATen/ATen.h>

#include "samplers/common.h"

namespace diffbench {
namespace {

at::Tensor sample_dpmpp_2m(const SampleArgs& a, at::Tensor x) {
  const int n = a.plan.steps();
  at::Tensor previous_x0;
  for (int i = 0; i < n; ++i) {
    const samplers::DpmStep d = samplers::dpm_step(a, i, x);
    float decay = d.t.alpha * (std::exp(-d.h) - 1.0f);
    if (i == 0 || i == n - 1) {  // first order
      x = (d.t.sigma / d.s.sigma) * x - decay * d.x0;
    } else {
      at::Tensor d1 = (1.0f / d.r) * (d.x0 - previous_x0);
      x = (d.t.sigma / d.s.sigma) * x - decay * d.x0 - 0.5f * decay * d1;
    }
    previous_x0 = d.x0;
    a.end_step(i, x);
  }
  return x;
}

}  // namespace

extern const SamplerInfo dpmpp_2m_sampler{
    .name = "dpmpp_2m",
    .description = "DPM-Solver++ 2M: second-order multistep ODE solver on the data prediction",
    .paper = "Lu et al. 2022 (arXiv:2211.01095)",
    .default_steps = 20,
    .stochastic = false,
    .default_guidance = 7.5,
    .plan = [](const NoiseSchedule& s, const SchedulerConfig& c,
               int steps) { return samplers::dpm_plan("dpmpp_2m", s, c, steps); },
    .sample = sample_dpmpp_2m,
    .uses_karras = true};

}  // namespace diffbench
