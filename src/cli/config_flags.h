#pragma once
// The scheduler flags `run`, `sweep` and `schedule` share: --config plus per-key overrides.
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace diffbench::cli {

/// Scheduler flags shared by `run` and `schedule`: --config plus per-key overrides.
struct ConfigFlags {
  std::string config_file;
  std::optional<std::string> beta_schedule, timestep_spacing, prediction_type;
  std::optional<double> beta_start, beta_end, shift, mu;
  std::optional<int> num_train_timesteps, steps_offset;
  bool karras = false;
};
void add_config_flags(CLI::App& app, ConfigFlags& flags);

}  // namespace diffbench::cli
