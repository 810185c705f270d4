#pragma once
// Helpers the samplers share: step-count checks and the two kinds of plan
// (discrete timesteps for DDPM/DDIM, interpolated sigmas for the Euler family).
#include <string>
#include <vector>

#include "diffbench/schedule/sampler.h"

namespace diffbench::samplers {

/// UsageError unless 1 <= steps <= the schedule's length.
void check_steps(const std::string& sampler, int steps, const NoiseSchedule& schedule);

/// DDPM/DDIM timesteps (rounded spaced grid), with sigma and alphas_cumprod per step.
/// A "leading" grid that would pass the schedule's end is shifted down (noted in the plan).
Plan discrete_plan(const std::string& sampler, const NoiseSchedule& schedule, const SchedulerConfig& config, int steps);

/// Euler-family plan: float timesteps, sigmas interpolated linearly in sigma (or Karras
/// sigmas over the grid's range when `karras`), a final 0, and init_noise_sigma.
Plan euler_plan(const std::string& sampler, const NoiseSchedule& schedule, const SchedulerConfig& config, int steps,
                bool karras);

/// The Euler family's derivative dx/dsigma = (x - x0) / sigma (k-diffusion's to_d).
at::Tensor to_d(const at::Tensor& x, const at::Tensor& x0, float sigma);

/// The ancestral split of a step from sigma to next (Ho et al. 2020 in the sigma form of Karras et
/// al. 2022): a deterministic step down to sigma_down, then fresh noise of size sigma_up, with
/// sigma_down^2 + sigma_up^2 = next^2.
struct AncestralStep {
  float sigma_down, sigma_up;
};
AncestralStep ancestral_step(float sigma, float next);

/// Fill plan.alphas_cumprod from plan.sigmas: VP a = 1 / (sigma^2 + 1); on the flow path the VP
/// level of equal signal-to-noise ratio, (1 - sigma)^2 / ((1 - sigma)^2 + sigma^2).
void alphas_from_sigmas(Plan& plan);

/// The DPM-Solver family's plan (DPMSolverMultistepScheduler): integer timesteps on the DPM grid
/// (steps + 1 points, the last dropped) or Karras sigmas over the whole schedule, a final sigma 0.
Plan dpm_plan(const std::string& sampler, const NoiseSchedule& schedule, const SchedulerConfig& config, int steps);

/// A step's noise level in the data-prediction form: x_t = alpha x0 + sigma eps (VP, from the
/// sampler's sigma), lambda = log(alpha / sigma) (+inf at sigma 0).
struct AlphaSigma {
  float alpha, sigma, lambda;
};
AlphaSigma alpha_sigma(double sigma_k);

/// A DPM-Solver step's model call at step i: the levels at steps i (s) and i + 1 (t), h = lambda_t
/// - lambda_s, the x0 prediction, and r = h_{i-1} / h for the multistep correction (i > 0).
struct DpmStep {
  AlphaSigma s, t;
  float h, r;
  at::Tensor x0;
};
DpmStep dpm_step(const SampleArgs& a, int i, const at::Tensor& x);

/// A flow-matching plan from the step sigmas `grid` makes (schedule/flow.h): float timesteps sigma x
/// num_train_timesteps (in float32, as diffusers multiplies), a final sigma 0, init_noise_sigma 1.
Plan flow_plan(const std::string& sampler, const NoiseSchedule& schedule, const SchedulerConfig& config, int steps,
               std::vector<float> (*grid)(const SchedulerConfig&, int));

}  // namespace diffbench::samplers
