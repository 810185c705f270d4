// Euler: Karras et al., "Elucidating the Design Space of Diffusion-Based Generative Models"
// (2022), Algorithm 2 without churn: first-order steps of the probability-flow ODE in sigma.
#include <ATen/ATen.h>

#include "samplers/common.h"

namespace diffbench {

static at::Tensor sample_euler(const SampleArgs& a, at::Tensor x) {
  for (int i = 0; i < a.plan.steps(); ++i) {
    auto sigma = static_cast<float>(a.plan.sigmas[i]);
    auto next = static_cast<float>(a.plan.sigmas[i + 1]);
    at::Tensor out = a.call_model(i, Denoiser::scale_input(x, sigma));
    at::Tensor x0 = a.denoiser.x0_from_sigma(out, x, sigma);
    x = x + samplers::to_d(x, x0, sigma) * (next - sigma);
    a.end_step(i, x);
  }
  return x;
}

extern const SamplerInfo euler_sampler{
    .name = "euler",
    .description = "Euler: first-order probability-flow ODE steps in sigma (deterministic)",
    .paper = "Karras et al. 2022 (arXiv:2206.00364), Algorithm 2",
    .default_steps = 25,
    .stochastic = false,
    .default_guidance = 7.5,
    .plan = [](const NoiseSchedule& s, const SchedulerConfig& c,
               int steps) { return samplers::euler_plan("euler", s, c, steps, c.use_karras_sigmas); },
    .sample = sample_euler,
    .uses_karras = true};

}  // namespace diffbench
