// The options `run`, `sweep` and `ablate` share, registered once.
#include "cli/common_options.h"
#include "diffbench/app/ablation_runs.h"
#include "cli/config_flags.h"

namespace diffbench::cli {
namespace {

// Where and how the models run: device, dtype, threads and the optimisation flags.
void setup_device_flags(CLI::App& app, RunOptions& o) {
  app.add_option("--device", o.device, "cpu | cuda | cuda:N")->capture_default_str();
  app.add_option("--dtype", o.dtype,
                 "fp32 | fp16 | bf16 (model weights and inputs; sampler arithmetic stays fp32; default: the "
                 "manifest's dtype, else fp32)");
  app.add_option("--threads", o.threads, "LibTorch intra-op threads (default: all cores)");
  app.add_flag("--pin", o.pin,
               "one thread pinned to one CPU (the last this process may use): the least noisy timing here "
               "(docs/measurement.md)");
  app.add_option("--heap", o.heap,
                 "keep: freed memory stays in the process, so repeats reuse pages already faulted in (the "
                 "steady state of a long-lived process); release: the allocator's default, which gives large "
                 "blocks back and faults them in again every step (docs/measurement.md)")
      ->capture_default_str();
  app.add_option("--interop-threads", o.interop_threads,
                 "LibTorch inter-op threads (default: LibTorch's; set once per process)");
  app.add_flag("--freeze", o.freeze, "torch::jit::freeze then optimize_for_inference on the UNet and VAE");
  app.add_flag("--compiled", o.compiled, "run the model's AOTInductor package (its manifest's packages), not its trace");
  app.add_flag("--channels-last", o.channels_last, "model weights and latents in channels-last memory format");
  app.add_option("--vae-tiling", o.vae_tiling,
                 "TILE[:OVERLAP]: decode in overlapping tiles of TILE latent pixels (overlap default: TILE/4)");
  app.add_flag("--cuda-graphs", o.cuda_graphs, "capture the UNet call as a CUDA graph and replay it (CUDA builds)");
  app.add_option("--cuda-timing", o.cuda_timing,
                 "events: CUDA events on the stream, read once per repeat (no step waits for the GPU); sync: "
                 "synchronise the device at every clock read (CUDA only)")
      ->capture_default_str();
}

}  // namespace

void add_common_options(CLI::App& app, RunOptions& o) {
  app.add_option("--unet", o.unet,
                 "TorchScript UNet or AOTInductor package (.pt2): forward(sample, timestep[, "
                 "encoder_hidden_states]) (default: models/digits/unet.pt, the trained digit teacher)");
  app.add_option("--model", o.model_dir,
                 "a folder from scripts/export_diffusers.py: DIR/unet.pt, whose manifest names the rest");
  app.add_option("--model-for", o.model_for,
                 "SAMPLER=FILE: run that sampler on that UNet (repeat or comma-separate); the default "
                 "model's manifest maps lcm and turbo to its distilled students")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->delimiter(',');
  app.add_option("--vae", o.vae, "TorchScript VAE decoder or .pt2 package: forward(latents) -> images in [-1, 1]");
  app.add_option("--vae-scaling-factor", o.vae_scaling_factor,
                 "latents are divided by this before decoding (default: the model manifest's, else SD's 0.18215)");
  app.add_option("--quality", o.quality,
                 "fd[,kid][,fd_inf]: also generate --samples images and report their Frechet distance (and KID, FD at "
                 "infinite n)");
  app.add_option("--samples", o.samples, "images generated for --quality fd (batched by the shape's B)")
      ->capture_default_str();
  app.add_option("--feature-model", o.feature_model,
                 "TorchScript feature extractor for --quality fd (default: the manifest's)");
  app.add_option("--reference-stats", o.reference_stats, "statistics file for --quality fd (default: the manifest's)");
  app.add_option("--seed", o.seed, "seed of the CPU generator (initial latents and every noise draw), 0 to 2^64-1")
      ->capture_default_str();
  app.add_option("--eta", o.eta, "DDIM eta, 0 (deterministic) to 1 (DDPM's variance)")->capture_default_str();
  app.add_option("--guidance-scale", o.guidance,
                 "classifier-free guidance for 3-input UNets (0 or 1: conditional only)");
  app.add_option("--cond", o.cond, "conditioning [B,L,D] as .npy (float32/float64)");
  app.add_option("--uncond", o.uncond, "unconditional embedding [B,L,D] as .npy (default: zeros)");
  app.add_option("--cond-shape", o.cond_shape, "zeros of this shape B,L,D as conditioning (timing-only runs)");
  setup_device_flags(app, o);
  app.add_option("--warmup", o.warmup, "full runs before the counted ones")->capture_default_str();
  app.add_option("--repeat", o.repeat, "counted runs")->capture_default_str();
  app.add_flag("--vary-seed", o.vary_seed, "repeat k uses seed + k");
  add_json_option(app, o.json, "the report");
  app.add_option("--csv", o.csv, "write one CSV row per run here ('-' for stdout)");
  add_markdown_option(app, o.markdown, "the table");
  app.add_option("--reference", o.reference,
                 "SAMPLER:STEPS run once from the same initial noise; report RMSE, max |err|, PSNR against it");
  app.add_option("--time-unit", o.time_unit, "unit of times in the table: auto, s, ms or us")->capture_default_str();
  add_quiet_flag(app, o.quiet);
  app.add_flag("--verbose,-v", o.verbose, "more detail in errors and notes");
  add_config_flags(app, o.config);
}

void add_sampler_option(CLI::App& app, std::string& sampler, Axes axes) {
  const std::string when = axes == Axes::run ? "; omitted: the lecture's six samplers"
                           : axes == Axes::baseline
                               ? std::string("; the baseline's (default: ") + kAblationSampler + ")"
                           : axes == Axes::lists ? ", or several comma-separated (default: the lecture's six)"
                                                 : "";
  CLI::Option* option = app.add_option("--sampler", sampler, "sampler name (diffbench list)" + when);
  if (axes == Axes::schedule) option->required();
}

template <class Steps>
void add_steps_option(CLI::App& app, Steps& steps, Axes axes) {
  const char* form = axes == Axes::baseline ? ", the baseline's"
                     : axes == Axes::lists  ? ", or several comma-separated"
                                            : "";
  app.add_option("--steps", steps, std::string("sampling steps") + form + " (default: the sampler's own)");
}
template void add_steps_option(CLI::App&, std::optional<int>&, Axes);
template void add_steps_option(CLI::App&, std::string&, Axes);

template <class Shape>
void add_shape_option(CLI::App& app, Shape& shape, Axes axes) {
  const char* form = axes == Axes::baseline ? ", the baseline's"
                     : axes == Axes::lists  ? ", or several by repeating the flag"
                                            : "";
  CLI::Option* option = app.add_option(
      "--shape", shape, std::string("latent shape B,C,H,W") + form + " (default: the model's metadata, else 1,4,64,64)");
  if (axes == Axes::lists) option->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}
template void add_shape_option(CLI::App&, std::string&, Axes);
template void add_shape_option(CLI::App&, std::vector<std::string>&, Axes);

void add_json_option(CLI::App& app, std::string& path, const std::string& what) {
  app.add_option("--json", path,
                 "write " + what + " as JSON here ('-' for stdout; the console report then goes to stderr)");
}

void add_markdown_option(CLI::App& app, std::string& path, const std::string& what) {
  app.add_option("--markdown", path, "write " + what + " as GitHub Markdown here ('-' for stdout)");
}

void add_quiet_flag(CLI::App& app, bool& quiet) {
  app.add_flag("--quiet,-q", quiet, "no console report or notes; errors only");
}

void add_threshold_option(CLI::App& app, double& percent, const std::string& what) {
  app.add_option("--threshold", percent, "percent: " + what)->capture_default_str();
}

void add_alpha_option(CLI::App& app, double& alpha, const std::string& what) {
  app.add_option("--alpha", alpha, what)->capture_default_str();
}

void add_ignore_option(CLI::App& app, std::string& groups) {
  app.add_option("--ignore", groups,
                 "match cells across these differences, comma-separated: model, cond, dtype, device, threads, "
                 "shape, steps, optimisations (to compare two models or settings; the output says so)");
}

void add_run_options(CLI::App& app, RunOptions& o) {
  add_sampler_option(app, o.sampler, Axes::run);
  add_steps_option(app, o.steps, Axes::run);
  add_shape_option(app, o.shape, Axes::run);
  app.add_option("--save-latents", o.save_latents, "final latents (last repeat) as float32 .npy, C order");
  app.add_option("--save-images", o.save_images,
                 "directory for one PNG per image, grid.png, and images.npy (float32, [-1, 1]) (needs --vae)");
  app.add_option("--profile", o.profile,
                 "FILE.json: one extra, uncounted repeat under LibTorch's operator profiler, written as a "
                 "Chrome/Perfetto trace; the ten most expensive operators in the table and JSON");
  add_common_options(app, o);
}

}  // namespace diffbench::cli
