// Heun: Karras et al., "Elucidating the Design Space of Diffusion-Based Generative Models"
// (2022), Algorithm 1 without churn: a second-order (trapezoidal) step of the probability-flow ODE
// in sigma, an Euler step corrected by the slope at its end. Two model evaluations per step but
// the last, which is an Euler step to sigma 0 (2 x steps - 1 in all), as diffusers'
// HeunDiscreteScheduler runs it (its timesteps interleave each step's end as the next call).
#include <ATen/ATen.h>

#include "samplers/common.h"

namespace diffbench {

static at::Tensor sample_heun(const SampleArgs& a, at::Tensor x) {
  const int steps = a.plan.steps();
  for (int i = 0; i < steps; ++i) {
    auto sigma = static_cast<float>(a.plan.sigmas[i]);
    auto next = static_cast<float>(a.plan.sigmas[i + 1]);
    at::Tensor out = a.call_model(i, Denoiser::scale_input(x, sigma));
    at::Tensor d = samplers::to_d(x, a.denoiser.x0_from_sigma(out, x, sigma), sigma);
    at::Tensor euler = x + d * (next - sigma);
    if (i + 1 == steps) {  // the last step ends at sigma 0: Euler's
      x = euler;
    } else {  // the slope at the Euler step's end, evaluated at the next step's timestep
      at::Tensor out_next = a.call_model(i + 1, Denoiser::scale_input(euler, next));
      at::Tensor d_next = samplers::to_d(euler, a.denoiser.x0_from_sigma(out_next, euler, next), next);
      x = x + (d + d_next) / 2 * (next - sigma);
    }
    a.end_step(i, x);
  }
  return x;
}

extern const SamplerInfo heun_sampler{
    .name = "heun",
    .description =
        "Heun: second-order probability-flow ODE steps in sigma, two model calls a step "
        "but the last (deterministic)",
    .paper = "Karras et al. 2022 (arXiv:2206.00364), Algorithm 1",
    .default_steps = 25,
    .stochastic = false,
    .default_guidance = 7.5,
    .plan = [](const NoiseSchedule& s, const SchedulerConfig& c,
               int steps) { return samplers::euler_plan("heun", s, c, steps, c.use_karras_sigmas); },
    .sample = sample_heun,
    .uses_karras = true,
    .evaluations = [](int steps) { return 2 * steps - 1; }};

}  // namespace diffbench
