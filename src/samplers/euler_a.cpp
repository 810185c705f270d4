// Euler Ancestral: Euler steps down to sigma_down plus fresh noise of size sigma_up, the
// ancestral split of Ho et al. (2020) in the sigma form of Karras et al. (2022), as k-diffusion.
#include "samplers/euler_a.h"

#include <ATen/ATen.h>

#include "samplers/common.h"

namespace diffbench {

at::Tensor samplers::sample_euler_ancestral(const SampleArgs& a, at::Tensor x) {
  for (int i = 0; i < a.plan.steps(); ++i) {
    auto sigma = static_cast<float>(a.plan.sigmas[i]);
    auto next = static_cast<float>(a.plan.sigmas[i + 1]);
    at::Tensor out = a.call_model(i, Denoiser::scale_input(x, sigma));
    at::Tensor x0 = a.denoiser.x0_from_sigma(out, x, sigma);
    const samplers::AncestralStep step = samplers::ancestral_step(sigma, next);
    x = x + samplers::to_d(x, x0, sigma) * (step.sigma_down - sigma);
    x = x + a.noise_like(x) * step.sigma_up;  // drawn at every step, the last included (sigma_up = 0 there)
    a.end_step(i, x);
  }
  return x;
}

extern const SamplerInfo euler_a_sampler{
    .name = "euler_a",
    .description = "Euler Ancestral: Euler steps plus fresh noise each step (stochastic)",
    .paper = "Karras et al. 2022 (arXiv:2206.00364); ancestral step of Ho et al. 2020",
    .default_steps = 25,
    .stochastic = true,
    .default_guidance = 7.5,
    .plan =
        [](const NoiseSchedule& s, const SchedulerConfig& c, int steps) {
          // diffusers' EulerAncestralDiscreteScheduler has no Karras option (plan_for notes it).
          return samplers::euler_plan("euler_a", s, c, steps, false);
        },
    .sample = samplers::sample_euler_ancestral};

}  // namespace diffbench
