// Turbo: the single-step sampler of Sauer et al., "Adversarial Diffusion Distillation" (2023),
// as SDXL-Turbo ships it: Euler Ancestral on "trailing" timesteps (999 for one step), no guidance.
#include <ATen/ATen.h>

#include "samplers/common.h"
#include "samplers/euler_a.h"

namespace diffbench {

extern const SamplerInfo turbo_sampler{
    .name = "turbo",
    .description = "Adversarial Diffusion Distillation (SDXL-Turbo): Euler Ancestral on trailing steps",
    .paper = "Sauer et al. 2023 (arXiv:2311.17042)",
    .default_steps = 1,
    .stochastic = true,
    .default_guidance = 0.0,
    .plan =
        [](const NoiseSchedule& s, const SchedulerConfig& c, int steps) {
          SchedulerConfig turbo = c;
          // Trailing spacing starts at t = 999, where ADD was trained. A config file's spacing (SD 1.5's
          // "leading" is the default config) does not apply; only --timestep-spacing overrides it.
          if (!c.is_explicit("timestep_spacing")) turbo.timestep_spacing = TimestepSpacing::trailing;
          Plan plan = samplers::euler_plan("turbo", s, turbo, steps, false);
          plan.timestep_spacing = turbo.timestep_spacing;  // recorded as the spacing that ran
          return plan;
        },
    .sample = samplers::sample_euler_ancestral};

}  // namespace diffbench
