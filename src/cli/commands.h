#pragma once
// The CLI's commands: each has an options struct, a setup_x(CLI::App&) and a run_x.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "diffbench/scheduler_config.h"

namespace diffbench::cli {

/// Scheduler flags shared by `run` and `schedule`: --config plus per-key overrides.
struct ConfigFlags {
  std::string config_file;
  std::optional<std::string> beta_schedule, timestep_spacing, prediction_type;
  std::optional<double> beta_start, beta_end;
  std::optional<int> num_train_timesteps, steps_offset;
  bool karras = false;
};
void add_config_flags(CLI::App& app, ConfigFlags& flags);
/// The config the flags describe (SD 1.5's by default); warnings go to `warnings`.
SchedulerConfig build_config(const ConfigFlags& flags, std::vector<std::string>* warnings);

/// `diffbench [run options]`: measure one sampler, or the lecture's table with no --sampler.
struct RunOptions {
  std::string unet, vae, sampler, shape, device = "cpu", dtype = "fp32";
  std::string json, csv, markdown, reference, save_latents, save_images, cond, uncond, cond_shape;
  std::optional<int> steps;
  int threads = 0, warmup = 1, repeat = 3;
  uint64_t seed = 0;
  double eta = 0.0, vae_scaling_factor = 0.18215;
  std::optional<double> guidance;
  bool vary_seed = false, quiet = false, verbose = false;
  ConfigFlags config;
};
void setup_run(CLI::App& app, RunOptions& options);
int run_run(const RunOptions& options);

/// `diffbench sweep`: a grid of runs in one process, each cell written as it finishes.
struct SweepOptions {
  RunOptions run;                   ///< every `run` option; --json is rewritten after each cell
  std::string samplers, steps, batches, grid, jsonl, resume, shard;
  std::vector<std::string> shapes;
};
void setup_sweep(CLI::App& app, SweepOptions& options);
int run_sweep(const SweepOptions& options);
/// A grid file's keys as command-line words ({"steps": [1, 2]} -> --steps 1,2), for `sweep`.
std::vector<std::string> grid_to_args(const std::string& path);

/// `diffbench merge A.json B.json ... -o ALL.json`: join shards.
struct MergeOptions {
  std::vector<std::string> inputs;
  std::string output;
  bool force = false;
};
void setup_merge(CLI::App& app, MergeOptions& options);
int run_merge(const MergeOptions& options);

/// `diffbench compare BASE NEW`: a CI regression gate.
struct CompareOptions {
  std::string base, updated, json, markdown;
  double threshold = 5.0;  ///< percent
  double alpha = 0.05;
  bool quiet = false;
};
void setup_compare(CLI::App& app, CompareOptions& options);
int run_compare(const CompareOptions& options);

/// `diffbench list`: every sampler with its paper, default steps and stochasticity.
void setup_list(CLI::App& app);
int run_list();

/// `diffbench schedule --sampler X --steps N`: per-step timestep, sigma, alphas_cumprod as JSON.
struct ScheduleOptions {
  std::string sampler;
  std::optional<int> steps;
  ConfigFlags config;
};
void setup_schedule(CLI::App& app, ScheduleOptions& options);
int run_schedule(const ScheduleOptions& options);

/// The default UNet shipped in models/ (found next to the source tree or the executable).
std::string default_model_path();

/// Whether --verbose was given (errors then include detail).
extern bool g_verbose;

}  // namespace diffbench::cli
