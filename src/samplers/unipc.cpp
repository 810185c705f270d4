// UniPC: Zhao et al., "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of
// Diffusion Models" (2023), as diffusers' UniPCMultistepScheduler with its defaults: the B(h) =
// e^h - 1 variant (bh2), order 2, data prediction, lower order at the start and at the last step.
// Each step first corrects the latents the model was just called on (UniC, with the new x0
// prediction), then predicts the next latents from the corrected ones (UniP). On a flow-matching
// model (prediction_type flow_prediction, or use_flow_sigmas) it runs on UniPC's flow sigmas with
// x = (1 - sigma) x0 + sigma noise, as Wan's pipeline does; otherwise on DPM-Solver's grid.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>

#include "diffbench/core/errors.h"
#include "diffbench/schedule/flow.h"
#include "samplers/common.h"

namespace diffbench {
namespace {

bool flow_mode(const SchedulerConfig& c) {
  return c.use_flow_sigmas || c.prediction_type == PredictionType::flow_prediction;
}

// alpha, sigma and lambda at step k: the flow path's or the VP one's.
samplers::AlphaSigma level(const Plan& plan, int k) {
  if (!plan.flow_matching) return samplers::alpha_sigma(plan.sigmas[k]);
  const auto s = static_cast<float>(plan.sigmas[k]);
  return {1.0f - s, s, std::log(1.0f - s) - std::log(s)};
}

at::Tensor x0_at(const SampleArgs& a, int k, const at::Tensor& out, const at::Tensor& x) {
  const samplers::AlphaSigma l = level(a.plan, k);
  if (a.config.prediction_type == PredictionType::flow_prediction) return a.denoiser.x0_from_flow(out, x, l.sigma);
  return a.denoiser.x0_from_alpha_sigma(out, x, l.alpha, l.sigma);
}

// The B(h) coefficients of a step of log-SNR width h: h phi_1 = e^-h - 1, B(h) and the right-hand
// sides b_1, b_2 of the order conditions.
struct Bh {
  float h, phi1, b_h, b1, b2;
};
Bh bh(const samplers::AlphaSigma& t, const samplers::AlphaSigma& s0) {
  const float h = t.lambda - s0.lambda, hh = -h;
  const float phi1 = std::expm1(hh), b_h = std::expm1(hh);
  float phi_k = phi1 / hh - 1.0f;
  const float b1 = phi_k * 1.0f / b_h;
  phi_k = phi_k / hh - 0.5f;
  return {h, phi1, b_h, b1, phi_k * 2.0f / b_h};
}

// The extrapolation from step s0 to t shared by UniP and UniC: (sigma_t / sigma_s0) x - alpha_t h phi_1 m0.
at::Tensor first_order(const samplers::AlphaSigma& t, const samplers::AlphaSigma& s0, const Bh& c, const at::Tensor& x,
                       const at::Tensor& m0) {
  return (t.sigma / s0.sigma) * x - (t.alpha * c.phi1) * m0;
}

// UniP from step i to i + 1 with x0 predictions m0 (step i) and m1 (step i - 1, order 2).
at::Tensor predict(const Plan& plan, int i, const at::Tensor& x, const at::Tensor& m0, const at::Tensor& m1,
                   int order) {
  const samplers::AlphaSigma t = level(plan, i + 1), s0 = level(plan, i);
  const Bh c = bh(t, s0);
  at::Tensor x_t = first_order(t, s0, c, x, m0);
  if (order == 1) return x_t;
  const float rk = (level(plan, i - 1).lambda - s0.lambda) / c.h;
  return x_t - (t.alpha * c.b_h) * (0.5f * ((m1 - m0) / rk));
}

// UniC of the latents at step i: from x_last (step i - 1) with m0, m1 (steps i - 1, i - 2) and the
// new prediction m_t, at the order the previous predictor used.
at::Tensor correct(const Plan& plan, int i, const at::Tensor& x_last, const at::Tensor& m_t, const at::Tensor& m0,
                   const at::Tensor& m1, int order) {
  const samplers::AlphaSigma t = level(plan, i), s0 = level(plan, i - 1);
  const Bh c = bh(t, s0);
  at::Tensor x_t = first_order(t, s0, c, x_last, m0);
  if (order == 1) return x_t - (t.alpha * c.b_h) * (0.5f * (m_t - m0));
  const float rk = (level(plan, i - 2).lambda - s0.lambda) / c.h;
  // rho solves [[1, 1], [rk, 1]] rho = [b1, b2]
  const float rho0 = (c.b1 - c.b2) / (1.0f - rk), rho1 = c.b1 - rho0;
  return x_t - (t.alpha * c.b_h) * (rho0 * ((m1 - m0) / rk) + rho1 * (m_t - m0));
}

at::Tensor sample_unipc(const SampleArgs& a, at::Tensor x) {
  const int n = a.plan.steps();
  at::Tensor m1, m2, x_last;  // x0 predictions one and two steps back; the latents the last step started from
  int order = 1, warm = 0;  // the last predictor's order; the steps the multistep history holds
  for (int i = 0; i < n; ++i) {
    at::Tensor m = x0_at(a, i, a.call_model(i, x), x);
    if (i > 0) x = correct(a.plan, i, x_last, m, m1, m2, order);
    m2 = m1;
    m1 = m;
    order = std::min({2, n - i, warm + 1});
    x_last = x;
    x = predict(a.plan, i, x, m1, m2, order);
    warm = std::min(warm + 1, 2);
    a.end_step(i, x);
  }
  return x;
}

Plan unipc_plan(const NoiseSchedule& schedule, const SchedulerConfig& c, int steps) {
  if (!flow_mode(c)) return samplers::dpm_plan("unipc", schedule, c, steps);
  samplers::check_steps("unipc", steps, schedule);
  if (c.use_karras_sigmas || c.use_exponential_sigmas || c.use_beta_sigmas) {
    throw UsageError(
        "unipc on a flow-matching model runs its flow sigmas only; drop use_karras_sigmas, "
        "use_exponential_sigmas and use_beta_sigmas");
  }
  Plan plan;
  plan.flow_matching = true;
  for (double s : unipc_flow_sigmas(c, steps)) {
    plan.timesteps.push_back(std::trunc(s * c.num_train_timesteps));  // diffusers' int64 cast
    plan.sigmas.push_back(static_cast<float>(s));
  }
  plan.sigmas.push_back(0.0);
  samplers::alphas_from_sigmas(plan);
  return plan;
}

}  // namespace

extern const SamplerInfo unipc_sampler{
    .name = "unipc",
    .description =
        "UniPC: order-2 predictor-corrector multistep solver (bh2), beta-schedule or flow models (deterministic)",
    .paper = "Zhao et al. 2023 (arXiv:2302.04867)",
    .default_steps = 20,
    .stochastic = false,
    .default_guidance = 7.5,
    .plan = unipc_plan,
    .sample = sample_unipc,
    .uses_karras = true,
    .both_paths = true};

}  // namespace diffbench
