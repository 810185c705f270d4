#pragma once
// Helpers the samplers share: step-count checks and the two kinds of plan
// (discrete timesteps for DDPM/DDIM, interpolated sigmas for the Euler family).
#include <string>

#include "diffbench/sampler.h"

namespace diffbench::samplers {

/// UsageError unless 1 <= steps <= the schedule's length.
void check_steps(const std::string& sampler, int steps, const NoiseSchedule& schedule);

/// DDPM/DDIM timesteps (rounded spaced grid), with sigma and alphas_cumprod per step.
/// A "leading" grid that would pass the schedule's end is shifted down (noted in the plan).
Plan discrete_plan(const std::string& sampler, const NoiseSchedule& schedule,
                   const SchedulerConfig& config, int steps);

/// Euler-family plan: float timesteps, sigmas interpolated linearly in sigma (or Karras
/// sigmas over the grid's range when `karras`), a final 0, and init_noise_sigma.
Plan euler_plan(const std::string& sampler, const NoiseSchedule& schedule,
                const SchedulerConfig& config, int steps, bool karras);

/// Fill plan.alphas_cumprod from plan.sigmas (a = 1 / (sigma^2 + 1)).
void alphas_from_sigmas(Plan& plan);

}  // namespace diffbench::samplers
