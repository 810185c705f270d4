// Flow Euler: first-order steps of the flow-matching ODE dx/dsigma = v (Lipman et al. 2023, "Flow
// Matching for Generative Modeling"; Liu et al. 2023, rectified flow), on SD3's shifted sigmas
// (Esser et al. 2024, "Scaling Rectified Flow Transformers", eq. 23) or Flux's resolution-dependent
// shift, as diffusers' FlowMatchEulerDiscreteScheduler (stochastic_sampling off).
#include <ATen/ATen.h>

#include "diffbench/schedule/flow.h"
#include "samplers/common.h"

namespace diffbench {

static at::Tensor sample_flow_euler(const SampleArgs& a, at::Tensor x) {
  for (int i = 0; i < a.plan.steps(); ++i) {
    auto sigma = static_cast<float>(a.plan.sigmas[i]);
    auto next = static_cast<float>(a.plan.sigmas[i + 1]);
    at::Tensor v = a.denoiser.velocity_from_flow(a.call_model(i, x), x, sigma);
    x = x + v * (next - sigma);
    a.end_step(i, x);
  }
  return x;
}

extern const SamplerInfo flow_euler_sampler{
    .name = "flow_euler",
    .description = "Flow Euler: first-order flow-matching ODE steps on shifted sigmas (SD3, Flux; deterministic)",
    .paper = "Lipman et al. 2023 (arXiv:2210.02747); Esser et al. 2024 (arXiv:2403.03206)",
    .default_steps = 28,
    .stochastic = false,
    .default_guidance = 7.0,
    .plan = [](const NoiseSchedule& s, const SchedulerConfig& c,
               int steps) { return samplers::flow_plan("flow_euler", s, c, steps, flow_sigmas); },
    .sample = sample_flow_euler,
    .uses_karras = true,
    .flow = true};

}  // namespace diffbench
