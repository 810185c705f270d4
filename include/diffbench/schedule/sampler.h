#pragma once
/// The sampler interface. A sampler is one file under src/samplers/ that defines a `SamplerInfo`
/// (with designated initialisers, naming each field it sets) and one line in src/samplers/list.def.
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "diffbench/schedule/denoiser.h"
#include "diffbench/schedule/schedule.h"

namespace diffbench {

/// What a sampler does at a given step count: the data behind `diffbench schedule`.
struct Plan {
  std::vector<double> timesteps;  ///< the value handed to the model at each step
  bool integer_timesteps = true;  ///< model gets int64 (ddpm, ddim, dpmpp_2m, lcm) or float32 (Euler family)
  std::vector<double> sigmas;  ///< noise level at each step, then the final one (steps + 1 values)
  std::vector<double> alphas_cumprod;  ///< alphas_cumprod at each step's timestep
  double init_noise_sigma = 1.0;  ///< the initial N(0, I) draw is multiplied by this
  std::vector<std::string> notes;  ///< choices the user should know about (printed, and in JSON)
  std::optional<TimestepSpacing> timestep_spacing;  ///< set when the sampler used another spacing than the config's
  /// Flow matching: sigmas are on the path x = (1 - sigma) x0 + sigma noise (falling from 1) and the
  /// timesteps are sigma x num_train_timesteps; alphas_cumprod is then the VP level of equal
  /// signal-to-noise ratio, (1 - sigma)^2 / ((1 - sigma)^2 + sigma^2).
  bool flow_matching = false;

  int steps() const { return static_cast<int>(timesteps.size()); }
};

/// The model as a sampler sees it: raw output (epsilon, v or x0) for a scaled input
/// at the step's timestep tensor, guidance already applied.
using ModelFn = std::function<at::Tensor(const at::Tensor& x_in, const at::Tensor& timestep)>;

/// Called after each step with the new latents (timing, NaN checks, cancellation).
using StepCallback = std::function<void(int step, const at::Tensor& x)>;

/// Everything a sampler loop needs; built once per run by the runner.
struct SampleArgs {
  const NoiseSchedule& schedule;
  const SchedulerConfig& config;
  const Plan& plan;
  const ModelFn& model;
  at::Generator generator;  ///< CPU generator, shared with the initial draw
  double eta = 0.0;  ///< DDIM's eta
  std::vector<at::Tensor> timestep_tensors;  ///< plan.timesteps as 0-d tensors on the model's device
  StepCallback on_step_end;  ///< may be empty
  Denoiser denoiser{config};  ///< model output -> x0 / eps for config's prediction type

  /// Run the model at step `i` on `x_in`.
  at::Tensor call_model(int i, const at::Tensor& x_in) const { return model(x_in, timestep_tensors[i]); }
  /// A float32 N(0, I) draw shaped like `like` from the CPU generator, moved to like's device.
  at::Tensor noise_like(const at::Tensor& like) const;
  /// Report that step `i` finished with latents `x`.
  void end_step(int i, const at::Tensor& x) const {
    if (on_step_end) on_step_end(i, x);
  }
};

/// A registered sampler. Its fields are in the order a designated initialiser must name them (C++20:
/// the library is built as C++20, as gnu++17 against LibTorch 1.13 (docs/builds.md); its public
/// headers stay C++17, which examples/embed is built as).
struct SamplerInfo {
  std::string name;  ///< the --sampler name
  std::string description;  ///< one line for `diffbench list`
  std::string paper;  ///< the paper the maths comes from
  int default_steps;  ///< steps when --steps is omitted
  bool stochastic;  ///< draws noise during sampling (beyond the initial latents)
  double default_guidance;  ///< guidance scale when --guidance-scale is omitted (3-input UNets)
  /// Timesteps, sigmas and init_noise_sigma for `steps` (throws UsageError when impossible).
  std::function<Plan(const NoiseSchedule&, const SchedulerConfig&, int steps)> plan;
  /// The loop: from initial latents x (already scaled by init_noise_sigma) to the final latents.
  std::function<at::Tensor(const SampleArgs&, at::Tensor x)> sample;
  bool uses_eta = false;  ///< honours --eta (DDIM); eta > 0 makes it stochastic
  /// Honours use_karras_sigmas (--karras). For the others it is noted and recorded as false: a
  /// setting the sampler ignores never keys a cell nor claims to be effective.
  bool uses_karras = false;
  /// Model evaluations (NFE) for `steps` when not one a step (Heun: 2 x steps - 1); null: steps.
  int (*evaluations)(int steps) = nullptr;
  /// Samples flow-matching models (flow_prediction, the path x = (1 - sigma) x0 + sigma noise);
  /// the others sample models trained on a beta schedule.
  bool flow = false;
  /// Samples either kind, choosing its path from the config (UniPC: use_flow_sigmas or flow_prediction).
  bool both_paths = false;
};

/// Whether `sampler` at this eta draws noise during sampling (beyond the initial latents): one
/// sample against one reference sample is then not a distributional metric.
bool is_stochastic(const SamplerInfo& sampler, double eta);

/// The model evaluations (NFE) `sampler` makes in `steps` steps (a CFG batch is one).
int model_evaluations(const SamplerInfo& sampler, int steps);

/// plan.timesteps as the 0-d tensors the model is called with: int64 or float32 (plan.integer_timesteps),
/// on `device`. The runner and the tests build them here, so both call the model alike.
std::vector<at::Tensor> timestep_tensors(const Plan& plan, c10::Device device);


}  // namespace diffbench
