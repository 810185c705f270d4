// A user's changes to a model's scheduler config, applied in one place.
#include "diffbench/schedule/scheduler_overrides.h"

#include <fmt/format.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/setting_names.h"

namespace diffbench {

SchedulerConfig apply_overrides(const SchedulerConfig& base, const SchedulerOverrides& f) {
  SchedulerConfig c = f.file ? *f.file : base;
  auto set = [&](const char* key, auto& target, const auto& value) {
    if (value) {
      target = *value;
      c.explicit_keys.insert(key);
    }
  };
  set("beta_schedule", c.beta_schedule, f.beta_schedule);
  set("beta_start", c.beta_start, f.beta_start);
  set("beta_end", c.beta_end, f.beta_end);
  set("num_train_timesteps", c.num_train_timesteps, f.num_train_timesteps);
  set("timestep_spacing", c.timestep_spacing, f.timestep_spacing);
  set("steps_offset", c.steps_offset, f.steps_offset);
  set("prediction_type", c.prediction_type, f.prediction_type);
  set("shift", c.shift, f.shift);
  set("mu", c.mu, f.mu);
  if (f.karras) {
    c.use_karras_sigmas = true;
    c.explicit_keys.insert("use_karras_sigmas");
  }
  if ((f.num_train_timesteps || f.beta_schedule || f.beta_start || f.beta_end) && c.trained_betas) {
    throw UsageError(fmt::format("the config gives trained_betas; {} and {} cannot override them",
                                 setting_name("beta_schedule"), setting_name("num_train_timesteps")));
  }
  if ((f.beta_start || f.beta_end) && c.beta_start > c.beta_end && c.beta_schedule != BetaSchedule::squaredcos_cap_v2) {
    throw UsageError(fmt::format("{} {} must not exceed {} {} (betas rise over the schedule)",
                                 setting_name("beta_start"), c.beta_start, setting_name("beta_end"), c.beta_end));
  }
  validate(c);
  return c;
}

}  // namespace diffbench
