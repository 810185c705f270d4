#pragma once
/// A user's changes to a model's scheduler config (a config file of their own, single keys on top),
/// applied in one place.
#include <optional>
#include <string>

#include "diffbench/schedule/scheduler_config.h"

namespace diffbench {

/// What a user changes about a model's scheduler config: a whole config of their own (`file`,
/// replacing the model's) and single keys on top. Unset keys keep the base's values.
struct SchedulerOverrides {
  std::optional<SchedulerConfig> file;  ///< a config file's contents (replaces the model's own)
  std::string file_path;  ///< where `file` was read ("" without one), for messages
  std::optional<BetaSchedule> beta_schedule;
  std::optional<TimestepSpacing> timestep_spacing;
  std::optional<PredictionType> prediction_type;
  std::optional<double> beta_start, beta_end;
  std::optional<int> num_train_timesteps, steps_offset;
  bool karras = false;  ///< use_karras_sigmas
  std::optional<double> shift;  ///< flow matching's static shift
  std::optional<double> mu;  ///< flow matching's dynamic-shift mu (else from the latent shape)
};

/// `file` (when given), else `base`, with each key of `overrides` set and recorded in explicit_keys;
/// UsageError when keys contradict (betas with trained_betas, beta_start above beta_end).
SchedulerConfig apply_overrides(const SchedulerConfig& base, const SchedulerOverrides& overrides);

}  // namespace diffbench
