#pragma once
// The CLI's commands: each has an options struct, a setup_x(CLI::App&) and a run_x.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "diffbench/schedule/scheduler_config.h"
#include "diffbench/plans/sweep.h"

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
  bool freeze = false, channels_last = false, cuda_graphs = false;
  int interop_threads = 0;  ///< 0: LibTorch's default
  std::string vae_tiling;  ///< TILE[:OVERLAP], "" for none
  std::string profile;  ///< --profile FILE.json (run only): one extra repeat under the operator profiler
  ConfigFlags config;
};
void setup_run(CLI::App& app, RunOptions& options);
int run_run(const RunOptions& options);

/// `diffbench sweep`: a grid of runs in one process, each cell written as it finishes.
struct SweepOptions {
  RunOptions run;  ///< every `run` option; --json is rewritten after each cell
  std::string samplers, steps, batches, grid, jsonl, resume, shard;
  std::vector<std::string> shapes, cells;  ///< cells: extra SAMPLER:STEPS beyond the product
  std::optional<int> shard_plan;  ///< --shard-plan N: print how N shards split the grid, run nothing
  std::vector<std::string> quality_baseline;  ///< SAMPLER:STEPS each: every quality cell is compared with it, paired
  double quality_margin = 2.0;  ///< an FD difference whose paired interval lies within +-this is "same"
};
void setup_sweep(CLI::App& app, SweepOptions& options);
int run_sweep(const SweepOptions& options);
/// A grid file's keys as command-line words ({"steps": [1, 2]} -> --steps 1,2), for `sweep`.
/// UsageError naming the file and key for an unknown key (with a suggestion), and the line and
/// column of a JSON syntax error. `valid_flags`: sweep's long flags ("--steps", ...).
std::vector<std::string> grid_to_args(const std::string& path, const std::vector<std::string>& valid_flags,
                                      const std::vector<std::string>& switches);

/// `diffbench ablate`: the optimisation ladder (baseline, each toggle, all, all + a few-step sampler).
struct AblateOptions {
  RunOptions run;  ///< the baseline run (--sampler, --steps, --shape and every run option)
  std::string toggles;  ///< "" : the device's default set
  std::string fast;  ///< SAMPLER:STEPS[@MODEL]; "" : the default model's LCM student; "none": no few-step rung
  double max_drift_db = 40;
};
void setup_ablate(CLI::App& app, AblateOptions& options);
int run_ablate(const AblateOptions& options);

/// `diffbench merge A.json B.json ... -o ALL.json`: join shards.
struct MergeOptions {
  std::vector<std::string> inputs;
  std::string output;
  bool force = false;
  bool allow_missing = false;  ///< accept shards that leave cells of their grid out
};
void setup_merge(CLI::App& app, MergeOptions& options);
int run_merge(const MergeOptions& options);

/// Options of the compare gate, shared by `compare` and `ab`.
struct GateOptions {
  std::string json, markdown;
  double threshold = 5.0;  ///< percent
  double alpha = 0.05;
  std::string ignore;  ///< comma-separated cell-identity groups matched across
  bool allow_undecided = false, quiet = false;
};
void add_gate_options(CLI::App& app, GateOptions& o, bool paired);
/// UsageError for bad gate options (before any work).
void check_gate_options(const GateOptions& o);
/// Compare two reports, print and write the outputs; the exit code (0, 3 regression, 4 undecided).
int run_gate(const Report& base, const Report& updated, const GateOptions& o);
/// --ignore's comma-separated groups, each checked against ignorable_key_groups().
std::vector<std::string> ignore_groups(const std::string& text);

/// `diffbench compare BASE NEW`: a CI regression gate.
struct CompareOptions {
  std::string base, updated;
  GateOptions gate;
};
void setup_compare(CLI::App& app, CompareOptions& options);
int run_compare(const CompareOptions& options);

/// `diffbench ab`: both sides measured block by block (in this process when they share the binary,
/// else one process per side per block), A B B A ..., until a sequential test decides or the budget
/// runs out (cli/ab.h, diffbench/sequential.h).
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
void setup_ab(CLI::App& app, AbOptions& options);
int run_ab(const AbOptions& options);

/// `diffbench history FILE|DIR ...`: change points over a branch's reports; exit 3 when the
/// newest report starts a slowdown.
struct HistoryOptions {
  std::vector<std::string> inputs;
  std::string ignore, json;
  double alpha = 0.01, threshold = 2.0;  ///< threshold: percent
  bool quiet = false;
};
void setup_history(CLI::App& app, HistoryOptions& options);
int run_history(const HistoryOptions& options);

/// `diffbench list`: every sampler with its paper, default steps and stochasticity.
struct ListOptions {
  bool json = false;
};
void setup_list(CLI::App& app, ListOptions& options);
int run_list(const ListOptions& options);

/// `diffbench schedule --sampler X --steps N`: per-step timestep, sigma, alphas_cumprod as JSON.
struct ScheduleOptions {
  std::string sampler;
  std::optional<int> steps;
  ConfigFlags config;
};
void setup_schedule(CLI::App& app, ScheduleOptions& options);
int run_schedule(const ScheduleOptions& options);

/// Which subcommand was parsed ("" for the main command), for error hints.
std::string parsed_command_name(const CLI::App& app);

/// " (did you mean 'x'?)" for the valid name closest to `given` (edit distance), or "" when none is close.
std::string did_you_mean(const std::string& given, const std::vector<std::string>& valid);

/// Every long and short flag of a (sub)command ("--steps", "-q", ...).
std::vector<std::string> long_flags(const CLI::App& app);

/// CLI11's "arguments were not expected" as one line with a did-you-mean and the right --help.
std::string unexpected_arguments_message(const CLI::App& app, const std::string& clis_message);

/// A bash completion script generated from the CLI definition.
std::string completion_script(const CLI::App& app);

/// The command line as given (argv), recorded in every report.
extern std::vector<std::string> g_command_line;

/// The warning for --eta given to samplers that ignore it; none when all of them honour it.
std::optional<std::string> eta_warning(double eta, const std::vector<std::string>& samplers);

/// The default UNet shipped in models/ (found next to the source tree or the executable).
std::string default_model_path();

/// Whether --verbose was given (errors then include detail).
extern bool g_verbose;

}  // namespace diffbench::cli
