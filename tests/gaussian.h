#pragma once
// The exact denoiser for data x0 ~ N(mu, s^2 I) and the closed-form probability-flow ODE,
// in the variance-exploding variable y = x / sqrt(a) = x0 + sigma eps (sigma^2 = (1 - a) / a).
#include <algorithm>
#include <memory>

#include <ATen/ATen.h>

#include "diffbench/schedule/sampler.h"

namespace diffbench::testing {

struct Gaussian {
  double mu = 0.5, s = 0.5;

  /// E[x0 | y] at noise level sigma.
  at::Tensor denoise(const at::Tensor& y, double sigma) const {
    return mu + (s * s / (s * s + sigma * sigma)) * (y - mu);
  }
  /// The ODE solution from sigma_from to sigma_to: y - mu scales by sqrt((s^2 + sigma^2)).
  at::Tensor flow(const at::Tensor& y, double sigma_from, double sigma_to) const {
    return mu + (y - mu) * std::sqrt((s * s + sigma_to * sigma_to) / (s * s + sigma_from * sigma_from));
  }
  /// The exact model output (epsilon, v or x0) for a scaled input x_t at alphas_cumprod a.
  at::Tensor output(const at::Tensor& x, double a, PredictionType type) const {
    at::Tensor eps = std::sqrt(1 - a) * (x - std::sqrt(a) * mu) / (a * s * s + 1 - a);
    at::Tensor x0 = (x - std::sqrt(1 - a) * eps) / std::sqrt(a);
    if (type == PredictionType::v_prediction) return std::sqrt(a) * eps - std::sqrt(1 - a) * x0;
    if (type == PredictionType::sample) return x0;
    return eps;
  }
  /// The exact model output on the flow-matching path x = (1 - sigma) x0 + sigma noise: the velocity
  /// noise - x0 (flow_prediction) or x0 (sample).
  at::Tensor flow_output(const at::Tensor& x, double sigma, PredictionType type) const {
    const double alpha = 1 - sigma;
    at::Tensor x0 = mu + (alpha * s * s / (alpha * alpha * s * s + sigma * sigma)) * (x - alpha * mu);
    if (type == PredictionType::sample) return x0;
    return (x - x0) / sigma;  // noise - x0, with noise = (x - alpha x0) / sigma
  }
  /// The exact answer of the flow ODE from sigma_from to sigma_to on the flow path: x - mu alpha
  /// scales with the path's standard deviation sqrt(alpha^2 s^2 + sigma^2).
  at::Tensor flow_path(const at::Tensor& x, double sigma_from, double sigma_to) const {
    const double a0 = 1 - sigma_from, a1 = 1 - sigma_to;
    const double sd0 = std::sqrt(a0 * a0 * s * s + sigma_from * sigma_from);
    const double sd1 = std::sqrt(a1 * a1 * s * s + sigma_to * sigma_to);
    return a1 * mu + (x - a0 * mu) * (sd1 / sd0);
  }
  /// A ModelFn evaluated at the exact noise level of the step whose timestep it is handed
  /// (plan.sigmas[i] for plan.timesteps[i], a = 1 / (1 + sigma^2)). Calls come in step order, so
  /// the step is the next one with that timestep (grids may repeat one), or the same step again
  /// (Heun calls at the next step's timestep, then starts that step there).
  ModelFn model_for_plan(const Plan& plan, PredictionType type, int* calls) const {
    auto last = std::make_shared<int>(-1);
    return [this, &plan, type, calls, last](const at::Tensor& x, const at::Tensor& t) {
      if (calls) ++*calls;
      const auto tv = static_cast<float>(t.to(at::kDouble).item<double>());
      const auto n = static_cast<int>(plan.timesteps.size());
      int step = *last + 1;
      while (step < n && static_cast<float>(plan.timesteps[step]) != tv) ++step;
      if (step == n) step = std::max(*last, 0);  // the same step's timestep again
      *last = step;
      const double sigma = plan.sigmas[step];
      if (plan.flow_matching) return flow_output(x, sigma, type);
      return output(x, 1.0 / (1.0 + sigma * sigma), type);
    };
  }
  /// A ModelFn: reads alphas_cumprod at the handed timestep (fractional t: through sigma, like
  /// the Euler family interpolates), counts its calls.
  ModelFn model(const NoiseSchedule& schedule, PredictionType type, int* calls) const {
    return [this, &schedule, type, calls](const at::Tensor& x, const at::Tensor& t) {
      if (calls) ++*calls;
      double tv = t.item<double>();
      double a = tv == std::floor(tv) ? schedule.alphas_cumprod()[static_cast<int>(tv)]
                                      : 1.0 / (1.0 + std::pow(schedule.sigma_at(tv), 2));
      return output(x, a, type);
    };
  }
};

}  // namespace diffbench::testing
