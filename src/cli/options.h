#pragma once
// Every command's options as CLI11 fills them, in one place (the bottom of the CLI: every other file
// of src/cli/ may include this, this includes none of them). Each command's setup_x registers its
// options into these, and its run_x hands them to the parser (run_setup.h) or reads them directly
// when they need no typing (merge, compare, history, list). Shared flags are registered once:
// common_options.h.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace diffbench::cli {

/// Scheduler flags shared by `run` and `schedule`: --config plus per-key overrides.
struct ConfigFlags {
  std::string config_file;
  std::optional<std::string> beta_schedule, timestep_spacing, prediction_type;
  std::optional<double> beta_start, beta_end, shift, mu;
  std::optional<int> num_train_timesteps, steps_offset;
  bool karras = false;
};

/// `diffbench [run options]`: measure one sampler, or the lecture's table with no --sampler.
/// The flags as CLI11 fills them; parse_run_setup (cli/run_setup.h) types and checks them once, and
/// nothing past the parser reads them.
struct RunOptions {
  std::string unet, vae, sampler, shape, device = "cpu", dtype;  ///< dtype "": the manifest's, else fp32
  std::string json, csv, markdown, reference, save_latents, save_images, cond, uncond, cond_shape;
  std::string seed = "0", time_unit = "auto";
  std::string quality, feature_model, reference_stats;  ///< --quality fd and its inputs
  int64_t samples = 1000;  ///< images generated for --quality fd
  std::optional<int> steps;
  std::optional<int> threads;  ///< unset: every core this process may use
  int warmup = 1, repeat = 3;
  double eta = 0.0;
  std::optional<double> vae_scaling_factor;  ///< unset: the model manifest's, else SD's 0.18215
  std::optional<double> guidance;
  std::vector<std::string> model_for;  ///< --model-for SAMPLER=FILE: that sampler runs on that UNet
  std::string model_dir;  ///< --model DIR: DIR/unet.pt (an exported pipeline folder)
  bool vary_seed = false, quiet = false, verbose = false;
  bool pin = false;  ///< one intra-op thread on one CPU (the least noisy timing on a shared machine)
  // The optimisation flags (docs/optimisations.md); each is recorded in the config's "optimisations".
  bool freeze = false, channels_last = false, cuda_graphs = false, compiled = false;
  std::string cuda_timing = "events";  ///< --cuda-timing events | sync
  std::string heap = "keep";  ///< --heap keep | release: freed memory stays in the process, or glibc's default
  int interop_threads = 0;  ///< 0: LibTorch's default
  std::string vae_tiling;  ///< TILE[:OVERLAP], "" for none
  std::string profile;  ///< --profile FILE.json (run only): one extra repeat under the operator profiler
  ConfigFlags config;
};

/// Options of the compare gate, shared by `compare` and `ab`.
struct GateOptions {
  std::string json, markdown;
  double threshold = 5.0;  ///< percent
  double alpha = 0.05;
  std::string ignore;  ///< comma-separated cell-identity groups matched across
  bool allow_undecided = false, quiet = false;
};

/// `diffbench sweep`: a grid of runs in one process, each cell written as it finishes.
struct SweepOptions {
  RunOptions run;  ///< every `run` option; --json is rewritten after each cell
  std::string samplers, steps, batches, grid, jsonl, resume, shard;
  std::vector<std::string> shapes, cells;  ///< cells: extra SAMPLER:STEPS beyond the product
  std::optional<int> shard_plan;  ///< --shard-plan N: print how N shards split the grid, run nothing
  std::vector<std::string> quality_baseline;  ///< SAMPLER:STEPS each: every quality cell is compared with it, paired
  double quality_margin = 2.0;  ///< an FD difference whose paired interval lies within +-this is "same"
};

/// `diffbench ablate`: the optimisation ladder (baseline, each toggle, all, all + a few-step sampler).
struct AblateOptions {
  RunOptions run;  ///< the baseline run (--sampler, --steps, --shape and every run option)
  std::string toggles;  ///< "" : the device's default set
  std::string fast;  ///< SAMPLER:STEPS[@MODEL]; "" : the default model's LCM student; "none": no few-step rung
  double max_drift_db = 40;
};

/// `diffbench ab`: both sides measured block by block (in this process when they share the binary,
/// else one process per side per block), A B B A ..., until a sequential test decides or the budget
/// runs out (cli/ab_processes.h, cli/ab_inprocess.h, cli/ab_report.h, diffbench/gate/sequential.h).
struct AbOptions {
  std::string base_bin, new_bin, base_args, new_args, save_base, save_new;
  double budget = 300;  ///< seconds of wall time in all, loading and warm-up included
  int max_blocks = 1000;
  int warmup_blocks = 1;  ///< uncounted blocks first (the first forward calls, cold caches)
  int reload_blocks = 0;  ///< in one process: load both sides' models again every N blocks (0: once)
  bool separate_processes = false;  ///< one process per side per block even for one binary
  std::vector<std::string> args;  ///< the run's own flags, after `--`, given to both sides
  GateOptions gate;
};

/// `diffbench merge A.json B.json ... -o ALL.json`: join shards.
struct MergeOptions {
  std::vector<std::string> inputs;
  std::string output;
  bool force = false;
  bool allow_missing = false;  ///< accept shards that leave cells of their grid out
};

/// `diffbench compare BASE NEW`: a CI regression gate.
struct CompareOptions {
  std::string base, updated;
  GateOptions gate;
};

/// `diffbench history FILE|DIR ...`: change points over a branch's reports; exit 3 when the
/// newest report starts a slowdown.
struct HistoryOptions {
  std::vector<std::string> inputs;
  std::string ignore, json;
  double alpha = 0.01, threshold = 2.0;  ///< threshold: percent
  bool quiet = false;
};

/// `diffbench list`: every sampler with its paper, default steps and stochasticity.
struct ListOptions {
  bool json = false;
};

/// `diffbench schedule --sampler X --steps N`: per-step timestep, sigma, alphas_cumprod as JSON.
struct ScheduleOptions {
  std::string sampler;
  std::optional<int> steps;
  ConfigFlags config;
};

/// The command line as given (argv), recorded in every report (main sets it before parsing).
extern std::vector<std::string> g_command_line;

/// Whether --verbose was given (errors then include detail).
extern bool g_verbose;

}  // namespace diffbench::cli
