#pragma once
/// A diffusers-style scheduler configuration (scheduler_config.json).
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace diffbench {

/// How betas grow over the training timesteps (diffusers' beta_schedule).
enum class BetaSchedule { linear, scaled_linear, squaredcos_cap_v2 };
/// Where the inference timesteps fall on the training grid (diffusers' timestep_spacing).
enum class TimestepSpacing { leading, trailing, linspace };
/// What the model predicts (diffusers' prediction_type). flow_prediction: the flow-matching
/// velocity noise - x0 on the path x = (1 - sigma) x0 + sigma noise (SD3, Flux; the flow samplers).
enum class PredictionType { epsilon, v_prediction, sample, flow_prediction };
/// Flow matching's resolution-dependent shift of sigma (diffusers' time_shift_type).
enum class TimeShiftType { exponential, linear };
/// Where a flow-matching run's sigmas come from: the scheduler's own grid (the SD3 pipeline) or the
/// Flux pipeline's linspace(1, 1/n, n) handed to it.
enum class FlowSigmas { scheduler, linspace };

/// The diffusers spelling ("scaled_linear", "trailing", "v_prediction"): JSON, tables, messages.
const char* name_of(BetaSchedule value);
const char* name_of(TimestepSpacing value);
const char* name_of(PredictionType value);
const char* name_of(TimeShiftType value);
const char* name_of(FlowSigmas value);
/// From the diffusers spelling; UsageError naming the valid ones (with a suggestion) otherwise.
BetaSchedule parse_beta_schedule(const std::string& text);
TimestepSpacing parse_timestep_spacing(const std::string& text);
PredictionType parse_prediction_type(const std::string& text);
TimeShiftType parse_time_shift_type(const std::string& text);
FlowSigmas parse_flow_sigmas(const std::string& text);

/// The options diffbench's samplers read, with Stable Diffusion 1.5's values as defaults.
struct SchedulerConfig {
  int num_train_timesteps = 1000;  ///< length of the training schedule
  double beta_start = 0.00085;  ///< first beta
  double beta_end = 0.012;  ///< last beta
  BetaSchedule beta_schedule = BetaSchedule::scaled_linear;
  std::optional<std::vector<double>> trained_betas;  ///< explicit betas (overrides beta_schedule)
  bool rescale_betas_zero_snr = false;  ///< rescale to zero terminal SNR (Lin et al. 2023)
  TimestepSpacing timestep_spacing = TimestepSpacing::leading;
  int steps_offset = 1;  ///< added to "leading" timesteps
  PredictionType prediction_type = PredictionType::epsilon;
  bool clip_sample = false;  ///< clamp the x0 prediction (DDPM/DDIM/LCM)
  double clip_sample_range = 1.0;  ///< clamp bound when clip_sample
  bool set_alpha_to_one = false;  ///< DDIM: final alphas_cumprod is 1 instead of alphas_cumprod[0]
  bool use_karras_sigmas = false;  ///< Karras et al. sigmas (euler, dpmpp_2m)
  int original_inference_steps = 50;  ///< LCM: the distillation grid size
  double timestep_scaling = 10.0;  ///< LCM: boundary-condition time scaling
  bool use_exponential_sigmas = false;  ///< sigmas spaced evenly in log sigma (flow_euler)
  bool use_beta_sigmas = false;  ///< Beta-distribution sigmas: not supported, refused by the flow samplers

  // Flow matching (FlowMatchEulerDiscreteScheduler): sigma falls from 1, x = (1 - sigma) x0 + sigma noise.
  double shift = 1.0;  ///< static shift: sigma -> shift sigma / (1 + (shift - 1) sigma) (SD3: 3.0)
  bool use_dynamic_shifting = false;  ///< shift by mu, from the image's token count (Flux)
  double base_shift = 0.5, max_shift = 1.15;  ///< mu at base_image_seq_len and at max_image_seq_len
  int base_image_seq_len = 256, max_image_seq_len = 4096;
  TimeShiftType time_shift_type = TimeShiftType::exponential;
  std::optional<double> shift_terminal;  ///< stretch the shifted sigmas to end at this value
  bool invert_sigmas = false;  ///< not supported, refused by the flow samplers
  bool stochastic_sampling = false;  ///< not supported, refused by the flow samplers
  bool use_flow_sigmas = false;  ///< UniPC on a flow model (also implied by prediction_type flow_prediction)
  std::optional<double> flow_shift;  ///< UniPC's name for the static shift (unset: `shift`)

  // Not diffusers config keys: what a flow pipeline hands set_timesteps.
  std::optional<double> mu;  ///< the dynamic shift's mu; unset: computed from the latent shape (resolve())
  FlowSigmas flow_sigmas = FlowSigmas::scheduler;

  /// Keys of diffusers scheduler classes that diffbench does not read as settings (solver_order,
  /// thresholding, ...), as JSON text: the sampler that runs checks them (check_class_keys).
  std::map<std::string, std::string> class_keys;

  /// Keys set by a command-line flag (samplers with their own defaults, such as
  /// turbo's trailing spacing, yield only to these, not to a config file).
  std::set<std::string> explicit_keys;

  /// True when `key` was set by a command-line flag.
  bool is_explicit(const std::string& key) const { return explicit_keys.count(key) > 0; }
};

/// Parse scheduler_config.json text. `origin` names the source in errors.
/// Unknown keys are appended to `warnings`; wrong types and bad values throw UsageError.
SchedulerConfig parse_scheduler_config(const std::string& text, const std::string& origin,
                                       std::vector<std::string>* warnings, SchedulerConfig base = SchedulerConfig{});

/// The diffusers config keys diffbench reads as settings (SchedulerConfig's fields).
std::vector<std::string> scheduler_config_keys();

/// Read and parse a scheduler_config.json file (RuntimeError when unreadable).
SchedulerConfig load_scheduler_config(const std::string& path, std::vector<std::string>* warnings);

/// Check names and ranges; throws UsageError naming the option and the valid choices.
void validate(const SchedulerConfig& config);

/// The configuration as diffusers-style JSON.
nlohmann::json to_json(const SchedulerConfig& config);

}  // namespace diffbench
