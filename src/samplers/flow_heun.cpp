// Flow Heun: second-order (trapezoidal) steps of the flow-matching ODE dx/dsigma = v on the
// statically shifted sigmas (Karras et al. 2022, Algorithm 1 without churn, on the flow path of
// Lipman et al. 2023), as diffusers' FlowMatchHeunDiscreteScheduler: an Euler step corrected by the
// slope at its end, two model evaluations a step but the last (an Euler step to sigma 0).
#include <ATen/ATen.h>
#include <fmt/format.h>

#include "diffbench/schedule/flow.h"
#include "samplers/common.h"

namespace diffbench {

static at::Tensor sample_flow_heun(const SampleArgs& a, at::Tensor x) {
  const int steps = a.plan.steps();
  for (int i = 0; i < steps; ++i) {
    auto sigma = static_cast<float>(a.plan.sigmas[i]);
    auto next = static_cast<float>(a.plan.sigmas[i + 1]);
    at::Tensor d = (x - a.denoiser.x0_from_flow(a.call_model(i, x), x, sigma)) / sigma;
    const float dt = next - sigma;
    if (i + 1 == steps) {  // the last step ends at sigma 0: Euler's
      x = x + d * dt;
    } else {  // the slope at the Euler step's end, evaluated at the next step's timestep
      at::Tensor euler = x + d * dt;
      at::Tensor d_next = (euler - a.denoiser.x0_from_flow(a.call_model(i + 1, euler), euler, next)) / next;
      x = x + (d + d_next) * 0.5f * dt;
    }
    a.end_step(i, x);
  }
  return x;
}

static Plan flow_heun_plan(const NoiseSchedule& s, const SchedulerConfig& c, int steps) {
  Plan plan = samplers::flow_plan("flow_heun", s, c, steps, flow_sigmas_static);
  auto ignored = [&](bool set, const char* key) {
    if (set) {
      plan.notes.push_back(
          fmt::format("flow_heun uses the static shift only (as FlowMatchHeunDiscreteScheduler): {} ignored", key));
    }
  };
  ignored(c.use_dynamic_shifting, "use_dynamic_shifting");
  ignored(c.use_exponential_sigmas, "use_exponential_sigmas");
  ignored(c.shift_terminal.has_value(), "shift_terminal");
  if (c.flow_sigmas == FlowSigmas::linspace) {
    plan.notes.push_back("flow_heun runs its scheduler's own sigmas, not the pipeline's linspace(1, 1/n, n)");
  }
  return plan;
}

extern const SamplerInfo flow_heun_sampler{
    .name = "flow_heun",
    .description =
        "Flow Heun: second-order flow-matching ODE steps, two model calls a step but the last (deterministic)",
    .paper = "Karras et al. 2022 (arXiv:2206.00364), Algorithm 1, on the flow path of Lipman et al. 2023",
    .default_steps = 28,
    .stochastic = false,
    .default_guidance = 7.0,
    .plan = flow_heun_plan,
    .sample = sample_flow_heun,
    .evaluations = [](int steps) { return 2 * steps - 1; },
    .flow = true};

}  // namespace diffbench
