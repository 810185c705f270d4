// DPM-Solver++(2M): Lu et al., "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion
// Probabilistic Models" (2022), Algorithm 2 (multistep, data prediction), midpoint form;
// first order at the first step and at the last (final sigma 0 returns the x0 prediction).
#include <ATen/ATen.h>

#include "diffbench/errors.h"
#include "samplers/common.h"

namespace diffbench {
namespace {

struct AlphaSigma {
  float alpha, sigma, lambda;  // x_t = alpha x0 + sigma eps, lambda = log(alpha / sigma)
};

AlphaSigma alpha_sigma(double sigma_k) {
  float s = static_cast<float>(sigma_k);
  float alpha = 1.0f / std::sqrt(s * s + 1.0f);
  float sigma = s * alpha;
  return {alpha, sigma, std::log(alpha) - std::log(sigma)};
}

Plan plan_dpmpp_2m(const NoiseSchedule& schedule, const SchedulerConfig& config, int steps) {
  samplers::check_steps("dpmpp_2m", steps, schedule);
  Plan plan;
  std::vector<double> sigmas;
  if (config.use_karras_sigmas) {  // over the whole schedule, whatever the spacing
    sigmas = karras_sigmas(schedule.sigmas().front(), schedule.sigmas().back(), steps);
    for (double s : sigmas) plan.timesteps.push_back(round_half_even(sigma_to_t(s, schedule.log_sigmas())));
  } else {
    for (int64_t t : dpm_timesteps(config, steps)) {
      plan.timesteps.push_back(static_cast<double>(t));
      sigmas.push_back(schedule.sigma_at(static_cast<double>(t)));
    }
  }
  for (double s : sigmas) plan.sigmas.push_back(static_cast<float>(s));
  plan.sigmas.push_back(0.0);
  samplers::alphas_from_sigmas(plan);
  return plan;
}

at::Tensor sample_dpmpp_2m(const SampleArgs& a, at::Tensor x) {
  const int n = a.plan.steps();
  at::Tensor previous_x0;
  for (int i = 0; i < n; ++i) {
    at::Tensor out = a.call_model(i, x);
    AlphaSigma s = alpha_sigma(a.plan.sigmas[i]), t = alpha_sigma(a.plan.sigmas[i + 1]);
    at::Tensor x0 = a.denoiser.x0_from_alpha_sigma(out, x, s.alpha, s.sigma);
    float h = t.lambda - s.lambda;
    float decay = t.alpha * (std::exp(-h) - 1.0f);
    bool first_order = i == 0 || i == n - 1;
    if (first_order) {
      x = (t.sigma / s.sigma) * x - decay * x0;
    } else {
      float r = (s.lambda - alpha_sigma(a.plan.sigmas[i - 1]).lambda) / h;
      at::Tensor d1 = (1.0f / r) * (x0 - previous_x0);
      x = (t.sigma / s.sigma) * x - decay * x0 - 0.5f * decay * d1;
    }
    previous_x0 = x0;
    a.end_step(i, x);
  }
  return x;
}

}  // namespace

extern const SamplerInfo dpmpp_2m_sampler{"dpmpp_2m",
                                          "DPM-Solver++ 2M: second-order multistep ODE solver on the data prediction",
                                          "Lu et al. 2022 (arXiv:2211.01095)",
                                          20,
                                          false,
                                          7.5,
                                          plan_dpmpp_2m,
                                          sample_dpmpp_2m,
                                          /*uses_eta=*/false,
                                          /*uses_karras=*/true};

}  // namespace diffbench
