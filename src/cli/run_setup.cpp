// Every run flag parsed into its type and checked, once, before any model loads.
#include "cli/run_setup.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>

#include "diffbench/app/data_files.h"
#include "cli/list_flags.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/parse.h"
#include "diffbench/core/files.h"
#include "diffbench/samplers/registry.h"
#include "diffbench/measure/process_info.h"

namespace diffbench::cli {
namespace {

// One rule for every thread count (--threads, a grid's threads, ablate's threads=N): 1 to the
// cores this process may use. 0 and negatives are no way to say "all cores": leave the flag out.
// More threads than cores only makes the threads wait for each other (10,000 had not finished 2
// steps after 2 minutes), so it is refused rather than measured.
void check_threads(const std::optional<int>& threads) {
  if (!threads) return;
  const int cores = usable_cores();
  if (*threads < 1 || *threads > cores) {
    throw UsageError(fmt::format("--threads {}: use 1 to {} (the cores this process may use); leave it out for all {}",
                                 *threads, cores, cores));
  }
}

// The main UNet: --model DIR (its unet.pt), --unet FILE, else the default model.
void choose_unet(const RunOptions& o, SessionSettings& s) {
  if (!o.model_dir.empty()) {
    if (!o.unet.empty()) throw UsageError("give --model DIR or --unet FILE, not both");
    s.unet = o.model_dir + "/unet.pt";
    if (access(s.unet.c_str(), F_OK) != 0) {
      throw UsageError(fmt::format("--model '{}' has no unet.pt: give a folder written by scripts/export_diffusers.py",
                                   o.model_dir));
    }
  } else {
    s.unet = o.unet.empty() ? default_model_path() : input_path(o.unet, "--unet", o.quiet);
  }
  s.default_model = o.unet.empty() && o.model_dir.empty();
}

SessionSettings parse_session(const RunOptions& o) {
  SessionSettings s;
  choose_unet(o, s);
  s.model_for = parse_model_for(o.model_for);
  for (auto& [sampler, file] : s.model_for) file = input_path(file, "--model-for", o.quiet);
  s.vae = o.vae.empty() ? "" : input_path(o.vae, "--vae", o.quiet);
  s.cond = o.cond;
  s.uncond = o.uncond;
  if (!o.cond_shape.empty()) s.cond_shape = parse_dims(o.cond_shape, "--cond-shape", 3, "B,L,D");
  s.device = parse_device(o.device);
  if (!o.dtype.empty()) s.dtype = parse_dtype(o.dtype);
  if (o.pin && o.threads && *o.threads != 1)
    throw UsageError(fmt::format("--pin runs one thread on one CPU; drop --threads {}", *o.threads));
  check_threads(o.threads);
  s.threads = o.threads;
  s.pin = o.pin;
  if (o.heap != "keep" && o.heap != "release")
    throw UsageError(fmt::format("--heap must be keep or release, got '{}'", o.heap));
  s.keep_heap = o.heap == "keep";
  if (o.interop_threads < 0) throw UsageError(fmt::format("--interop-threads must be >= 1, got {}", o.interop_threads));
  s.interop_threads = o.interop_threads;
  s.load = {o.freeze, o.channels_last};
  s.compiled = o.compiled;
  if (!o.vae_tiling.empty()) s.vae_tiling = parse_vae_tiling(o.vae_tiling);
  s.cuda_graphs = o.cuda_graphs;
  if (o.cuda_timing != "events" && o.cuda_timing != "sync")
    throw UsageError(fmt::format("--cuda-timing must be events or sync, got '{}'", o.cuda_timing));
  s.cuda_events = o.cuda_timing == "events";
  if (o.vae_scaling_factor && !(*o.vae_scaling_factor > 0)) throw UsageError("--vae-scaling-factor must be > 0");
  s.vae_scaling_factor = o.vae_scaling_factor;
  return s;
}

QualitySetup parse_quality(const RunOptions& o) {
  QualitySetup q{!o.quality.empty(), {}, o.samples, o.feature_model, o.reference_stats, std::nullopt};
  for (const auto& metric : split_flag_list(o.quality, "--quality")) {
    if (metric == "kid") {
      q.metrics.kid = true;
    } else if (metric == "fd_inf") {
      q.metrics.fd_infinity = true;
    } else if (metric != "fd") {
      throw UsageError(
          fmt::format("--quality '{}': the quality figures are fd (Frechet distance), kid (kernel distance) and fd_inf "
                      "(FD extrapolated to infinite n), comma-separated",
                      metric));
    }
  }
  if (o.samples < 2)
    throw UsageError(fmt::format("--samples must be at least 2 (a covariance needs two), got {}", o.samples));
  if (!o.reference.empty()) q.reference = parse_sampler_steps(o.reference, "--reference");
  return q;
}

OutputSetup parse_outputs(const RunOptions& o) {
  if (!o.json.empty()) check_writable(o.json, "--json");
  if (!o.csv.empty()) check_writable(o.csv, "--csv");
  if (!o.markdown.empty()) check_writable(o.markdown, "--markdown");
  check_distinct_outputs({{"--json", o.json},
                          {"--csv", o.csv},
                          {"--markdown", o.markdown},
                          {"--save-latents", o.save_latents},
                          {"--profile", o.profile}});
  if (o.profile == "-") throw UsageError("--profile needs a file name (the trace is large); e.g. --profile trace.json");
  if (!o.save_latents.empty()) check_writable(o.save_latents, "--save-latents");
  if (!o.save_images.empty()) check_writable_dir(o.save_images, "--save-images");
  if (!o.profile.empty()) check_writable(o.profile, "--profile");
  return {o.json,  o.csv,    o.markdown, o.save_latents, o.save_images, o.profile, parse_time_unit(o.time_unit),
          o.quiet, o.verbose};
}

uint64_t parse_seed(const std::string& text) {
  const std::string hint = "give an integer from 0 to 18446744073709551615 (2^64 - 1)";
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    throw UsageError(fmt::format("--seed '{}': {}", text, hint));
  }
  errno = 0;
  unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
  if (errno == ERANGE) throw UsageError(fmt::format("--seed '{}' is out of range: {}", text, hint));
  return v;
}

}  // namespace

RunSetup parse_run_setup(const RunOptions& o) {
  RunSetup setup;
  std::vector<std::string> later;  // said when each model's config is built
  setup.spec.scheduler = parse_config_flags(o.config, &later);
  if (!o.sampler.empty()) find_sampler(o.sampler);
  setup.sampler = o.sampler;
  setup.out = parse_outputs(o);
  setup.spec.seed = parse_seed(o.seed);
  setup.spec.steps = o.steps;
  if (!o.shape.empty()) setup.spec.shape = parse_dims(o.shape, "--shape", 4, "B,C,H,W");
  setup.spec.eta = o.eta;
  setup.spec.guidance = o.guidance;
  setup.spec.warmup = o.warmup;
  setup.spec.repeat = o.repeat;
  setup.spec.vary_seed = o.vary_seed;
  setup.quality = parse_quality(o);
  setup.session = parse_session(o);
  setup.command_line = g_command_line;
  return setup;
}

void check_distinct_outputs(const std::vector<std::pair<std::string, std::string>>& outputs) {
  std::map<std::string, std::string> seen;  // identity -> flag
  for (const auto& [flag, path] : outputs) {
    if (path.empty()) continue;
    std::string id = output_identity(path);
    auto [it, fresh] = seen.emplace(id, flag);
    if (!fresh) {
      throw UsageError(id == "-" ? fmt::format("only one of {} and {} can write to stdout ('-')", it->second, flag)
                                 : fmt::format("{} and {} name the same file '{}'; give each output its own file",
                                               it->second, flag, path));
    }
  }
}

std::map<std::string, std::string> parse_model_for(const std::vector<std::string>& items) {
  std::map<std::string, std::string> out;
  for (const auto& item : items) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      throw UsageError(fmt::format("--model-for '{}': expected SAMPLER=FILE, e.g. lcm=models/digits/lcm.pt", item));
    }
    std::string sampler = item.substr(0, eq);
    find_sampler(sampler);
    if (!out.emplace(sampler, item.substr(eq + 1)).second) {
      throw UsageError(fmt::format("--model-for names {} twice; give each sampler one model", sampler));
    }
  }
  return out;
}

}  // namespace diffbench::cli
