// --config and the per-key scheduler overrides, shared by `run` and `schedule`.
#include "cli/data_files.h"
#include "cli/commands.h"

#include "diffbench/errors.h"

namespace diffbench::cli {

void add_config_flags(CLI::App& app, ConfigFlags& f) {
  app.add_option("--config", f.config_file, "diffusers scheduler_config.json (default: SD 1.5's; presets in configs/)")
      ->transform([](const std::string& path) { return input_path(path, "--config", true); });
  app.add_option("--beta-schedule", f.beta_schedule, "linear | scaled_linear | squaredcos_cap_v2");
  app.add_option("--beta-start", f.beta_start, "first beta");
  app.add_option("--beta-end", f.beta_end, "last beta");
  app.add_option("--num-train-timesteps", f.num_train_timesteps, "training schedule length");
  app.add_option("--timestep-spacing", f.timestep_spacing, "leading | trailing | linspace");
  app.add_option("--steps-offset", f.steps_offset, "offset added to leading timesteps");
  app.add_option("--prediction-type", f.prediction_type, "epsilon | v_prediction | sample");
  app.add_flag("--karras", f.karras, "Karras sigmas (euler, dpmpp_2m)");
}

SchedulerConfig build_config(const ConfigFlags& f, std::vector<std::string>* warnings, const std::string& base_text,
                             const std::string& base_origin) {
  SchedulerConfig c = !f.config_file.empty() ? load_scheduler_config(f.config_file, warnings)
                      : base_text.empty()    ? SchedulerConfig{}
                                             : parse_scheduler_config(base_text, base_origin, warnings);
  auto set = [&](const char* key, auto& target, const auto& value, auto convert) {
    if (value) {
      target = convert(*value);
      c.explicit_keys.insert(key);
    }
  };
  const auto same = [](const auto& v) { return v; };
  set("beta_schedule", c.beta_schedule, f.beta_schedule, parse_beta_schedule);
  set("beta_start", c.beta_start, f.beta_start, same);
  set("beta_end", c.beta_end, f.beta_end, same);
  set("num_train_timesteps", c.num_train_timesteps, f.num_train_timesteps, same);
  set("timestep_spacing", c.timestep_spacing, f.timestep_spacing, parse_timestep_spacing);
  set("steps_offset", c.steps_offset, f.steps_offset, same);
  set("prediction_type", c.prediction_type, f.prediction_type, parse_prediction_type);
  if (f.karras) {
    c.use_karras_sigmas = true;
    c.explicit_keys.insert("use_karras_sigmas");
  }
  if ((f.num_train_timesteps || f.beta_schedule || f.beta_start || f.beta_end) && c.trained_betas) {
    throw UsageError("the config gives trained_betas; --beta-* and --num-train-timesteps cannot override them");
  }
  if ((f.beta_start || f.beta_end) && c.beta_start > c.beta_end && c.beta_schedule != BetaSchedule::squaredcos_cap_v2) {
    throw UsageError(fmt::format("--beta-start {} must not exceed --beta-end {} (betas rise over the schedule)",
                                 c.beta_start, c.beta_end));
  }
  validate(c);
  return c;
}

}  // namespace diffbench::cli
