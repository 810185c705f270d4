// --config and the per-key scheduler overrides, shared by `run` and `schedule`.
#include "diffbench/app/data_files.h"
#include "cli/config_flags.h"
#include "cli/run_setup.h"

#include "diffbench/core/errors.h"
#include "diffbench/schedule/scheduler_overrides.h"

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
  app.add_option("--prediction-type", f.prediction_type, "epsilon | v_prediction | sample | flow_prediction");
  app.add_flag("--karras", f.karras, "Karras sigmas (euler, dpmpp_2m, flow_euler)");
  app.add_option("--shift", f.shift, "flow matching: static sigma shift (SD3: 3.0)");
  app.add_option("--mu", f.mu, "flow matching: dynamic-shift mu (default: from the latent shape, as the pipelines)");
}

SchedulerOverrides parse_config_flags(const ConfigFlags& f, std::vector<std::string>* warnings) {
  SchedulerOverrides o;
  if (!f.config_file.empty()) {
    o.file = load_scheduler_config(f.config_file, warnings);
    o.file_path = f.config_file;
  }
  if (f.beta_schedule) o.beta_schedule = parse_beta_schedule(*f.beta_schedule);
  if (f.timestep_spacing) o.timestep_spacing = parse_timestep_spacing(*f.timestep_spacing);
  if (f.prediction_type) o.prediction_type = parse_prediction_type(*f.prediction_type);
  o.beta_start = f.beta_start;
  o.beta_end = f.beta_end;
  o.num_train_timesteps = f.num_train_timesteps;
  o.steps_offset = f.steps_offset;
  o.karras = f.karras;
  o.shift = f.shift;
  o.mu = f.mu;
  apply_overrides(SchedulerConfig{}, o);  // keys that contradict each other, before any model loads
  return o;
}

}  // namespace diffbench::cli
