// The main command: load the models once, run the asked sampler(s), report, save outputs.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <csignal>
#include <cstdio>
#include <sstream>
#include <thread>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>

#include "cli/commands.h"
#include "diffbench/errors.h"
#include "diffbench/io.h"
#include "diffbench/model.h"
#include "diffbench/report.h"
#include "diffbench/runner.h"

namespace diffbench::cli {

bool g_verbose = false;

namespace {

// The six samplers of the lecture's Part 1 table, run when no --sampler is given.
const std::vector<std::string> kLectureSamplers = {"ddpm", "ddim", "dpmpp_2m", "euler_a", "lcm", "turbo"};

std::vector<int64_t> parse_dims(const std::string& text, const char* flag, size_t count, const char* label) {
  std::vector<int64_t> dims;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      long long v = std::stoll(item, &used);
      if (used != item.size()) throw std::invalid_argument(item);
      dims.push_back(v);
    } catch (const std::exception&) {
      throw UsageError(fmt::format("{} '{}': expected {} comma-separated integers ({})", flag, text, count, label));
    }
  }
  if (dims.size() != count) {
    throw UsageError(fmt::format("{} '{}': expected {} comma-separated integers ({})", flag, text, count, label));
  }
  for (int64_t d : dims) {
    if (d <= 0) throw UsageError(fmt::format("{} '{}': every dimension must be positive", flag, text));
  }
  return dims;
}

// "dpmpp_2m:200" -> {"dpmpp_2m", 200}
std::pair<std::string, int> parse_reference(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos) throw UsageError(fmt::format("--reference '{}': expected SAMPLER:STEPS, e.g. dpmpp_2m:200", text));
  std::string name = text.substr(0, colon), steps_text = text.substr(colon + 1);
  find_sampler(name);
  if (steps_text.empty() || steps_text.size() > 6 || steps_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(steps_text) < 1) {
    throw UsageError(fmt::format("--reference '{}': STEPS must be a positive integer", text));
  }
  return {name, std::stoi(steps_text)};
}

// A one-line progress bar on stderr, redrawn at most 10 times a second.
ProgressFn progress_bar(const std::string& sampler) {
  auto last = std::make_shared<double>(-1.0);
  return [sampler, last](const Progress& p) {
    if (p.elapsed_s - *last < 0.1 && p.step != p.steps) return;
    *last = p.elapsed_s;
    double done = (double(p.run) * p.steps + p.step) / (double(p.runs) * p.steps);
    double eta = done > 0 ? p.elapsed_s * (1 - done) / done : 0;
    double rate = p.elapsed_s > 0 ? (double(p.run) * p.steps + p.step) / p.elapsed_s : 0;
    std::fprintf(stderr, "\r\033[K%s  run %d/%d  step %d/%d  %.1f it/s  ETA %.1f s", sampler.c_str(), p.run + 1, p.runs,
                 p.step, p.steps, rate, eta);
    std::fflush(stderr);
  };
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void load_conditioning(Session& session, const RunOptions& o) {
  if (session.unet->arity() != 3) {
    if (!o.cond.empty() || !o.uncond.empty() || !o.cond_shape.empty()) {
      throw UsageError(fmt::format("--cond/--uncond/--cond-shape need a conditional UNet; '{}' takes (sample, timestep)",
                                   session.unet->path()));
    }
    return;
  }
  auto load = [](const std::string& path, const char* flag) {
    at::Tensor t = from_npy(read_file(path, flag), fmt::format("{} '{}'", flag, path));
    if (t.dim() == 2) t = t.unsqueeze(0);
    if (t.dim() != 3) throw UsageError(fmt::format("{} '{}' must be [B, L, D] (or [L, D]), got {} dims", flag, path, t.dim()));
    return t;
  };
  if (!o.cond.empty()) {
    session.cond = load(o.cond, "--cond");
  } else {
    std::vector<int64_t> shape = !o.cond_shape.empty() ? parse_dims(o.cond_shape, "--cond-shape", 3, "B,L,D")
                                                       : session.unet->cond_shape().value_or(std::vector<int64_t>{});
    if (shape.empty()) {
      throw UsageError(fmt::format("UNet '{}' takes encoder_hidden_states: give --cond FILE.npy or --cond-shape B,L,D",
                                   session.unet->path()));
    }
    session.cond = at::zeros(shape);  // timing-only conditioning
  }
  if (!o.uncond.empty()) session.uncond = load(o.uncond, "--uncond");
}

void write_output(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  } else {
    write_file_atomically(path, text);
  }
}

}  // namespace

std::string default_model_path() {
  std::vector<std::string> candidates = {std::string(DIFFBENCH_SOURCE_DIR) + "/models/small.pt"};
  char exe[4096] = {};
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    std::string dir = std::string(exe, static_cast<size_t>(n));
    dir = dir.substr(0, dir.rfind('/'));
    candidates.push_back(dir + "/../models/small.pt");
    candidates.push_back(dir + "/../share/diffbench/models/small.pt");
  }
  for (const auto& c : candidates) {
    if (access(c.c_str(), R_OK) == 0) return c;
  }
  return candidates.front();
}

void setup_run(CLI::App& app, RunOptions& o) {
  app.add_option("--unet", o.unet, "TorchScript UNet: forward(sample, timestep[, encoder_hidden_states]) (default: models/small.pt)");
  app.add_option("--vae", o.vae, "TorchScript VAE decoder: forward(latents) -> images in [-1, 1]");
  app.add_option("--vae-scaling-factor", o.vae_scaling_factor, "latents are divided by this before decoding")->capture_default_str();
  app.add_option("--sampler", o.sampler, "sampler name (diffbench list); omitted: the lecture's six samplers");
  app.add_option("--steps", o.steps, "sampling steps (default: the sampler's own)");
  app.add_option("--seed", o.seed, "seed of the CPU generator (initial latents and every noise draw)")->capture_default_str();
  app.add_option("--shape", o.shape, "latent shape B,C,H,W (default: the model's metadata, else 1,4,64,64)");
  app.add_option("--eta", o.eta, "DDIM eta (0: deterministic)")->capture_default_str();
  app.add_option("--guidance-scale", o.guidance, "classifier-free guidance for 3-input UNets (0 or 1: conditional only)");
  app.add_option("--cond", o.cond, "conditioning [B,L,D] as .npy (float32/float64)");
  app.add_option("--uncond", o.uncond, "unconditional embedding [B,L,D] as .npy (default: zeros)");
  app.add_option("--cond-shape", o.cond_shape, "zeros of this shape B,L,D as conditioning (timing-only runs)");
  app.add_option("--device", o.device, "cpu | cuda | cuda:N")->capture_default_str();
  app.add_option("--dtype", o.dtype, "fp32 | fp16 | bf16 (model weights and inputs; sampler arithmetic stays fp32)")->capture_default_str();
  app.add_option("--threads", o.threads, "LibTorch intra-op threads (default: all cores)");
  app.add_option("--warmup", o.warmup, "full runs before the counted ones")->capture_default_str();
  app.add_option("--repeat", o.repeat, "counted runs")->capture_default_str();
  app.add_flag("--vary-seed", o.vary_seed, "repeat k uses seed + k");
  app.add_option("--json", o.json, "write the JSON report here ('-' for stdout; the table then goes to stderr)");
  app.add_option("--csv", o.csv, "write one CSV row per run here ('-' for stdout)");
  app.add_option("--markdown", o.markdown, "write the table as GitHub Markdown here ('-' for stdout)");
  app.add_option("--reference", o.reference,
                 "SAMPLER:STEPS run once from the same initial noise; report RMSE, max |err|, PSNR against it");
  app.add_option("--save-latents", o.save_latents, "final latents (last repeat) as float32 .npy, C order");
  app.add_option("--save-images", o.save_images, "directory for one PNG per image (needs --vae)");
  app.add_flag("--quiet,-q", o.quiet, "no table or notes; errors only");
  app.add_flag("--verbose,-v", o.verbose, "more detail in errors and notes");
  add_config_flags(app, o.config);
}

int run_run(const RunOptions& o) {
  g_verbose = o.verbose;
  // Everything that can be checked is checked before any work starts.
  std::vector<std::string> warnings;
  SchedulerConfig config = build_config(o.config, &warnings);
  std::vector<std::string> samplers = o.sampler.empty() ? kLectureSamplers : std::vector<std::string>{o.sampler};
  for (const auto& name : samplers) find_sampler(name);
  if (o.steps && o.sampler.empty()) throw UsageError("--steps needs --sampler (with no --sampler each sampler uses its default)");
  if (o.steps && *o.steps < 1) throw UsageError(fmt::format("--steps must be at least 1, got {}", *o.steps));
  if (!o.json.empty()) check_writable(o.json, "--json");
  if (!o.csv.empty()) check_writable(o.csv, "--csv");
  if (!o.markdown.empty()) check_writable(o.markdown, "--markdown");
  int stdout_writers = (o.json == "-") + (o.csv == "-") + (o.markdown == "-");
  if (stdout_writers > 1) throw UsageError("only one of --json, --csv, --markdown can write to stdout ('-')");
  std::optional<std::pair<std::string, int>> reference;
  if (!o.reference.empty()) reference = parse_reference(o.reference);
  if (!o.save_latents.empty()) check_writable(o.save_latents, "--save-latents");
  if (!o.save_images.empty()) {
    if (o.vae.empty()) throw UsageError("--save-images needs --vae (images are decoded latents)");
    check_writable_dir(o.save_images, "--save-images");
  }
  if (o.threads < 0) throw UsageError(fmt::format("--threads must be >= 1, got {}", o.threads));
  if (o.vae_scaling_factor <= 0) throw UsageError("--vae-scaling-factor must be > 0");

  Session session;
  session.device = parse_device(o.device);
  session.dtype = parse_dtype(o.dtype);
  session.threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(session.threads);
  session.vae_scaling_factor = o.vae_scaling_factor;
  std::vector<int64_t> shape = o.shape.empty() ? std::vector<int64_t>{} : parse_dims(o.shape, "--shape", 4, "B,C,H,W");

  auto start = std::chrono::steady_clock::now();
  std::string unet_path = o.unet.empty() ? default_model_path() : o.unet;
  session.unet = std::make_unique<ScriptModel>(unet_path, "UNet", std::vector<int>{2, 3}, session.device, session.dtype);
  session.unet_load_s = seconds_since(start);
  if (!o.vae.empty()) {
    start = std::chrono::steady_clock::now();
    session.vae = std::make_unique<ScriptModel>(o.vae, "VAE", std::vector<int>{1}, session.device, session.dtype);
    session.vae_load_s = seconds_since(start);
  }
  load_conditioning(session, o);

  std::vector<RunSpec> specs;
  for (const auto& name : samplers) {
    RunSpec spec;
    spec.sampler = name;
    spec.steps = o.steps.value_or(0);  // 0: the sampler's default
    spec.seed = o.seed;
    spec.shape = shape;
    spec.eta = o.eta;
    spec.guidance = o.guidance;
    spec.config = config;
    spec.warmup = o.warmup;
    spec.repeat = o.repeat;
    spec.vary_seed = o.vary_seed;
    specs.push_back(resolve(session, spec));
  }
  if (o.eta > 0 && o.sampler != "ddim") warnings.push_back("--eta applies to ddim only; other samplers ignore it");

  FILE* human = stdout_writers ? stderr : stdout;
  const bool show_progress = !o.quiet && isatty(STDERR_FILENO) && std::getenv("CI") == nullptr;
  for (const auto& w : warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  std::vector<RunResult> results;
  std::map<std::string, RunResult> reference_runs;  // one reference run per SAMPLER:STEPS
  for (const RunSpec& spec : specs) {
    if (!o.quiet && specs.size() > 1) std::fprintf(stderr, "running %s (%d steps)...\n", spec.sampler.c_str(), spec.steps);
    results.push_back(run(session, spec, show_progress ? progress_bar(spec.sampler) : ProgressFn{}));
    if (show_progress) std::fputs("\r\033[K", stderr);
    RunResult& r = results.back();
    if (reference && r.status == "ok") {
      RunSpec ref = spec;
      ref.sampler = reference->first;
      ref.steps = reference->second;
      ref.warmup = 0;
      ref.repeat = 1;
      ref.vary_seed = false;
      std::string key = fmt::format("{}:{}", ref.sampler, ref.steps);
      auto cached = reference_runs.find(key);
      if (cached == reference_runs.end()) cached = reference_runs.emplace(key, run(session, resolve(session, ref))).first;
      attach_quality(r, cached->second, key, find_sampler(spec.sampler).stochastic || (spec.sampler == "ddim" && spec.eta > 0));
    }
    if (!o.quiet) {
      for (const auto& note : r.plan.notes) std::fprintf(stderr, "note: %s: %s\n", spec.sampler.c_str(), note.c_str());
    }
    if (r.status == "interrupted") break;
  }

  // Report everything measured, even after a failure or an interruption: the table first, so a
  // file that cannot be written (full disk) loses nothing a human can read.
  const std::vector<RunRow> rows = summarize_runs(results, samplers.size() > 1 ? "ddpm" : "");
  if (!o.quiet) {
    std::fprintf(human, "%s", console_table(rows).c_str());
    std::fprintf(human,
                 "Time/Step: median over %d repeat(s) of the mean step time; Total: median wall time of one run "
                 "(initial noise + steps%s), after %d warm-up run(s); it/s = steps / Total; Spread: IQR / median of "
                 "Total (! when over 10%%: too noisy to trust).\n"
                 "Model load %s, first (cold) forward %s: not included above. %s, %d thread(s), %s.\n",
                 o.repeat, session.vae ? " + VAE decode" : "", o.warmup, format_seconds(session.unet_load_s).c_str(),
                 format_seconds(session.cold_forward_s.value_or(0)).c_str(), session.device.str().c_str(),
                 session.threads, dtype_name(session.dtype).c_str());
    if (reference) {
      std::fprintf(human, "RMSE / PSNR: final latents against %s:%d from the same initial noise (PSNR peak: the "
                          "reference's range)%s.\n", reference->first.c_str(), reference->second,
                   results.empty() || !results[0].quality || !results[0].quality->per_sample ? ""
                       : "; * = stochastic sampler: one sample against one sample, not a distributional metric");
    }
    std::fflush(human);
  }
  std::vector<std::string> write_errors;
  auto attempt = [&](const std::string& path, const std::function<std::string()>& text) {
    if (path.empty()) return;
    try {
      write_output(path, text());
    } catch (const RuntimeError& e) {
      write_errors.push_back(e.what());
    }
  };
  attempt(o.json, [&] { return report_json(session, results).dump(2) + "\n"; });
  attempt(o.csv, [&] { return csv_table(rows); });
  attempt(o.markdown, [&] { return markdown_table(rows); });
  const RunResult& last = results.back();
  if (last.latents.defined()) attempt(o.save_latents, [&] { return to_npy(last.latents); });
  if (!o.save_images.empty() && last.images.defined()) {
    try {
      write_pngs(last.images, o.save_images);
    } catch (const RuntimeError& e) {
      write_errors.push_back(e.what());
    }
  }
  if (!write_errors.empty()) {
    throw RuntimeError(write_errors.front() + (o.quiet ? "" : " (the measured results are in the table above)"));
  }
  for (const RunResult& r : results) {
    if (r.status == "failed") std::fprintf(stderr, "error: %s: %s\n", r.spec.sampler.c_str(), r.error.c_str());
  }
  if (int sig = stop_requested()) {
    std::fprintf(stderr, "error: interrupted by signal %d; finished results were written\n", sig);
    return sig == SIGTERM ? kExitSigterm : kExitSigint;
  }
  for (const RunResult& r : results) {
    if (r.status != "ok") return kExitFailure;
  }
  return kExitOk;
}

}  // namespace diffbench::cli
