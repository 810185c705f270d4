#pragma once
// `diffbench [run options]`, and the process-wide state every command reads.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/config_flags.h"

namespace diffbench::cli {

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
  std::string cuda_timing = "events";  ///< --cuda-timing events | sync
  std::string heap = "keep";  ///< --heap keep | release: freed memory stays in the process, or glibc's default
  int interop_threads = 0;  ///< 0: LibTorch's default
  std::string vae_tiling;  ///< TILE[:OVERLAP], "" for none
  std::string profile;  ///< --profile FILE.json (run only): one extra repeat under the operator profiler
  ConfigFlags config;
};
void setup_run(CLI::App& app, RunOptions& options);
int run_run(const RunOptions& options);

/// The command line as given (argv), recorded in every report.
extern std::vector<std::string> g_command_line;

/// The warning for --eta given to samplers that ignore it; none when all of them honour it.
std::optional<std::string> eta_warning(double eta, const std::vector<std::string>& samplers);

/// The default UNet shipped in models/ (found next to the source tree or the executable).
std::string default_model_path();

/// Whether --verbose was given (errors then include detail).
extern bool g_verbose;

}  // namespace diffbench::cli
