#include "samplers/common.h"

#include <cmath>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/setting_names.h"

namespace diffbench::samplers {

void check_steps(const std::string& sampler, int steps, const NoiseSchedule& schedule) {
  if (steps < 1) throw UsageError(fmt::format("{} must be at least 1, got {}", setting_name("steps"), steps));
  if (steps > schedule.size()) {
    throw UsageError(
        fmt::format("{}: {} {} is more than the schedule's {} training timesteps; "
                    "use at most {}",
                    sampler, setting_name("steps"), steps, schedule.size(), schedule.size()));
  }
}

Plan discrete_plan(const std::string& sampler, const NoiseSchedule& schedule, const SchedulerConfig& config,
                   int steps) {
  check_steps(sampler, steps, schedule);
  Plan plan;
  for (double t : spaced_timesteps(config, steps)) plan.timesteps.push_back(round_half_even(t));
  double excess = plan.timesteps.front() - (schedule.size() - 1);
  if (excess > 0) {
    for (double& t : plan.timesteps) t -= excess;
    plan.notes.push_back(
        fmt::format("leading spacing with steps_offset {} at {} steps would start at t={}, past the schedule's "
                    "last timestep {} (diffusers raises IndexError); diffbench shifts the grid down by {} to {}..{}",
                    config.steps_offset, steps, plan.timesteps.front() + excess, schedule.size() - 1, excess,
                    plan.timesteps.front(), plan.timesteps.back()));
  }
  for (double t : plan.timesteps) {
    plan.sigmas.push_back(schedule.sigmas()[static_cast<int>(t)]);
    plan.alphas_cumprod.push_back(schedule.alphas_cumprod()[static_cast<int>(t)]);
  }
  plan.sigmas.push_back(0.0);
  return plan;
}

Plan euler_plan(const std::string& sampler, const NoiseSchedule& schedule, const SchedulerConfig& config, int steps,
                bool karras) {
  check_steps(sampler, steps, schedule);
  Plan plan;
  plan.integer_timesteps = false;
  std::vector<double> sigmas;
  for (double t : spaced_timesteps(config, steps)) {
    float t32 = static_cast<float>(t);  // diffusers keeps these timesteps in float32
    plan.timesteps.push_back(t32);
    sigmas.push_back(schedule.sigma_at(t32));
  }
  if (karras) {  // over the spaced grid's own range, as EulerDiscreteScheduler does
    sigmas = karras_sigmas(sigmas.back(), sigmas.front(), steps);
    for (size_t i = 0; i < sigmas.size(); ++i) {
      plan.timesteps[i] = static_cast<float>(sigma_to_t(sigmas[i], schedule.log_sigmas()));
    }
  }
  float max_sigma = 0;
  for (double s : sigmas) {
    plan.sigmas.push_back(static_cast<float>(s));
    max_sigma = std::max(max_sigma, static_cast<float>(s));
  }
  plan.sigmas.push_back(0.0);
  bool scale = config.timestep_spacing == TimestepSpacing::leading;  // diffusers: sqrt(max^2 + 1) only for leading
  plan.init_noise_sigma = scale ? std::sqrt(max_sigma * max_sigma + 1.0f) : max_sigma;
  alphas_from_sigmas(plan);
  return plan;
}

at::Tensor to_d(const at::Tensor& x, const at::Tensor& x0, float sigma) { return (x - x0) / sigma; }

AncestralStep ancestral_step(float sigma, float next) {
  float up = std::sqrt(next * next * (sigma * sigma - next * next) / (sigma * sigma));
  return {std::sqrt(next * next - up * up), up};
}

void alphas_from_sigmas(Plan& plan) {
  plan.alphas_cumprod.clear();
  for (int i = 0; i < plan.steps(); ++i) {
    const double s = plan.sigmas[i], alpha = plan.flow_matching ? 1.0 - s : 1.0;  // flow: x = (1 - s) x0 + s noise
    plan.alphas_cumprod.push_back(alpha * alpha / (alpha * alpha + s * s));
  }
}

AlphaSigma alpha_sigma(double sigma_k) {
  float s = static_cast<float>(sigma_k);
  float alpha = 1.0f / std::sqrt(s * s + 1.0f);
  float sigma = s * alpha;
  return {alpha, sigma, std::log(alpha) - std::log(sigma)};
}

DpmStep dpm_step(const SampleArgs& a, int i, const at::Tensor& x) {
  at::Tensor out = a.call_model(i, x);
  DpmStep d{alpha_sigma(a.plan.sigmas[i]), alpha_sigma(a.plan.sigmas[i + 1]), 0.0f, 0.0f, {}};
  d.x0 = a.denoiser.x0_from_alpha_sigma(out, x, d.s.alpha, d.s.sigma);
  d.h = d.t.lambda - d.s.lambda;
  if (i > 0) d.r = (d.s.lambda - alpha_sigma(a.plan.sigmas[i - 1]).lambda) / d.h;
  return d;
}

Plan dpm_plan(const std::string& sampler, const NoiseSchedule& schedule, const SchedulerConfig& config, int steps) {
  check_steps(sampler, steps, schedule);
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
  alphas_from_sigmas(plan);
  return plan;
}

Plan flow_plan(const std::string& sampler, const NoiseSchedule& schedule, const SchedulerConfig& config, int steps,
               std::vector<float> (*grid)(const SchedulerConfig&, int)) {
  check_steps(sampler, steps, schedule);
  const std::vector<float> sigmas = grid(config, steps);
  Plan plan;
  plan.flow_matching = true;
  plan.integer_timesteps = false;
  const auto n = static_cast<float>(config.num_train_timesteps);
  for (float s : sigmas) {
    plan.timesteps.push_back(s * n);  // float32, as diffusers multiplies
    plan.sigmas.push_back(s);
  }
  plan.sigmas.push_back(0.0);
  alphas_from_sigmas(plan);
  return plan;
}

}  // namespace diffbench::samplers
