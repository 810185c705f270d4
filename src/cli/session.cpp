// Shared by `run` and `sweep`: option checks, opening the session, building specs.
#include "cli/data_files.h"
#include "cli/session.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <thread>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "clock.h"
#include "device.h"
#include "diffbench/errors.h"
#include "diffbench/io.h"
#include "diffbench/model.h"
#include "diffbench/quality.h"
#include "process_info.h"

namespace diffbench::cli {
namespace {

// Conditioning as wide as the UNet's cross-attention input (its manifest's cond_shape), or an error
// that says so before the first forward call fails somewhere inside the model.
void check_cond_width(const Session& session, const at::Tensor& t, const char* flag, const std::string& path) {
  auto expected = session.unet->cond_shape();
  if (expected && expected->size() == 3 && t.size(2) != (*expected)[2]) {
    throw UsageError(
        fmt::format("{} '{}' is {} wide, but '{}' takes encoder_hidden_states {} wide (its manifest's "
                    "cond_shape): embed the prompt with this model's text encoder",
                    flag, path, t.size(2), session.unet->path(), (*expected)[2]));
  }
}

void load_conditioning(Session& session, const RunOptions& o) {
  if (session.unet->arity() != 3) {
    if (!o.cond.empty() || !o.uncond.empty() || !o.cond_shape.empty()) {
      throw UsageError(fmt::format(
          "--cond/--uncond/--cond-shape need a conditional UNet; '{}' takes (sample, timestep)", session.unet->path()));
    }
    return;
  }
  auto load = [](const std::string& path, const char* flag) {
    at::Tensor t = from_npy(read_file(path, flag), fmt::format("{} '{}'", flag, path));
    if (t.dim() == 2) t = t.unsqueeze(0);
    if (t.dim() != 3)
      throw UsageError(fmt::format("{} '{}' must be [B, L, D] (or [L, D]), got {} dims", flag, path, t.dim()));
    return t;
  };
  if (!o.cond.empty()) {
    session.cond = load(o.cond, "--cond");
    session.cond_source = o.cond;
    check_cond_width(session, session.cond, "--cond", o.cond);
  } else {
    std::vector<int64_t> shape = !o.cond_shape.empty() ? parse_dims(o.cond_shape, "--cond-shape", 3, "B,L,D")
                                                       : session.unet->cond_shape().value_or(std::vector<int64_t>{});
    if (shape.empty()) {
      throw UsageError(fmt::format("UNet '{}' takes encoder_hidden_states: give --cond FILE.npy or --cond-shape B,L,D",
                                   session.unet->path()));
    }
    session.cond = at::zeros(shape);  // timing-only conditioning
    session.cond_source = "zeros";
  }
  if (!o.uncond.empty()) {
    session.uncond = load(o.uncond, "--uncond");
    session.uncond_source = o.uncond;
    check_cond_width(session, session.uncond, "--uncond", o.uncond);
  }
}

// --interop-threads: LibTorch allows setting it once, before any inter-op work; the same value again
// is fine (ablate opens one session per configuration).
void set_interop_threads(int n) {
  if (n <= 0 || at::get_num_interop_threads() == n) return;
  try {
    at::set_num_interop_threads(n);
  } catch (const std::exception&) {
    throw UsageError(
        fmt::format("--interop-threads {}: LibTorch sets inter-op threads once per process, and they "
                    "are already {}; give the same value to every run of one process",
                    n, at::get_num_interop_threads()));
  }
}

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

}  // namespace

std::vector<int64_t> parse_dims(const std::string& text, const char* flag, size_t count, const char* label) {
  std::vector<int64_t> dims;
  std::stringstream in(text);
  std::string item;
  auto fail = [&] {
    return UsageError(fmt::format("{} '{}': expected {} comma-separated integers ({})", flag, text, count, label));
  };
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      long long v = std::stoll(item, &used);
      if (used != item.size()) throw fail();
      dims.push_back(v);
    } catch (const std::exception&) {
      throw fail();
    }
  }
  if (dims.size() != count) throw fail();
  for (int64_t d : dims) {
    if (d <= 0) throw UsageError(fmt::format("{} '{}': every dimension must be positive", flag, text));
  }
  return dims;
}

std::pair<std::string, int> parse_reference(const std::string& text, const char* flag) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos)
    throw UsageError(fmt::format("{} '{}': expected SAMPLER:STEPS, e.g. dpmpp_2m:200", flag, text));
  std::string name = text.substr(0, colon), steps_text = text.substr(colon + 1);
  find_sampler(name);
  if (steps_text.empty() || steps_text.size() > 6 || steps_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(steps_text) < 1) {
    throw UsageError(fmt::format("{} '{}': STEPS must be a positive integer", flag, text));
  }
  return {name, std::stoi(steps_text)};
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

void check_common_options(const RunOptions& o) {
  if (!o.sampler.empty()) find_sampler(o.sampler);  // run and ablate; sweep has its own lists
  if (o.steps && *o.steps < 1) throw UsageError(fmt::format("--steps must be at least 1, got {}", *o.steps));
  if (!o.json.empty()) check_writable(o.json, "--json");
  if (!o.csv.empty()) check_writable(o.csv, "--csv");
  if (!o.markdown.empty()) check_writable(o.markdown, "--markdown");
  check_distinct_outputs({{"--json", o.json},
                          {"--csv", o.csv},
                          {"--markdown", o.markdown},
                          {"--save-latents", o.save_latents},
                          {"--profile", o.profile}});
  if (o.profile == "-") throw UsageError("--profile needs a file name (the trace is large); e.g. --profile trace.json");
  parse_seed(o.seed);
  if (o.time_unit != "auto" && o.time_unit != "s" && o.time_unit != "ms" && o.time_unit != "us") {
    throw UsageError(fmt::format("--time-unit '{}': use auto, s, ms or us", o.time_unit));
  }
  if (!o.reference.empty()) parse_reference(o.reference);
  if (o.pin && o.threads && *o.threads != 1)
    throw UsageError(fmt::format("--pin runs one thread on one CPU; drop --threads {}", *o.threads));
  check_threads(o.threads);
  if (o.interop_threads < 0) throw UsageError(fmt::format("--interop-threads must be >= 1, got {}", o.interop_threads));
  if (!o.vae_tiling.empty()) parse_vae_tiling(o.vae_tiling);
  if (o.vae_scaling_factor && !(*o.vae_scaling_factor > 0)) throw UsageError("--vae-scaling-factor must be > 0");
  if (!o.quality.empty() && o.quality != "fd") {
    throw UsageError(fmt::format("--quality '{}': the one quality metric is fd (Frechet distance)", o.quality));
  }
  if (o.samples < 2)
    throw UsageError(fmt::format("--samples must be at least 2 (a covariance needs two), got {}", o.samples));
}

Session open_session(const RunOptions& o) {
  Session session;
  session.process_id = new_process_id();
  session.command_line = g_command_line;
  double load[1] = {0};
  if (getloadavg(load, 1) == 1) session.load_at_start = load[0];
  session.device = parse_device(o.device);
  session.dtype = parse_dtype(o.dtype.empty() ? "fp32" : o.dtype);
  if (o.pin && pin_to_one_cpu() < 0) throw RuntimeError("--pin: the kernel refused to pin this process to one CPU");
  session.threads = o.pin ? 1 : o.threads.value_or(usable_cores());
  at::set_num_threads(session.threads);
  set_interop_threads(o.interop_threads);
  session.interop_threads = o.interop_threads;
  session.load = {o.freeze, o.channels_last};
  double start = now_s();
  const std::string unet_path = o.unet.empty() ? default_model_path() : input_path(o.unet, "--unet", o.quiet);
  session.unet = std::make_unique<ScriptModel>(unet_path, ModelRole::unet, std::vector<int>{2, 3}, session.device,
                                               session.dtype, session.load);
  const nlohmann::json& meta = session.unet->metadata();
  if (o.dtype.empty() && meta.contains("dtype") && meta["dtype"].is_string()) {  // an exported fp16/bf16 model
    const c10::ScalarType exported = parse_dtype(meta["dtype"].get<std::string>());
    if (exported != session.dtype) {
      session.dtype = exported;
      session.unet = std::make_unique<ScriptModel>(unet_path, ModelRole::unet, std::vector<int>{2, 3}, session.device,
                                                   exported, session.load);
    }
    session.from_manifest.push_back("dtype=" + dtype_name(exported));
  }
  session.unet_load_s = now_s() - start;
  const RunOptions m = with_manifest(o, session);  // the manifest fills what the flags left unset
  session.vae_scaling_factor = m.vae_scaling_factor.value_or(0.18215);
  if (!m.vae.empty()) {
    start = now_s();
    const std::string vae_path =
        o.vae.empty() ? m.vae : input_path(o.vae, "--vae", o.quiet);  // a flag beats the manifest
    session.vae = std::make_unique<ScriptModel>(vae_path, ModelRole::vae, std::vector<int>{1}, session.device,
                                                session.dtype, session.load);
    session.vae_load_s = now_s() - start;
  }
  if (!o.vae_tiling.empty()) {
    if (!session.vae) throw UsageError("--vae-tiling needs a VAE: give --vae, or a model whose manifest names one");
    session.vae_tiling = parse_vae_tiling(o.vae_tiling);
  }
  if (o.cuda_graphs) {
    if (device::cuda_available() && !session.device.is_cuda())
      throw UsageError("--cuda-graphs needs --device cuda (CUDA graphs capture GPU work)");
    session.unet = device::with_cuda_graphs(std::move(session.unet));
    session.cuda_graphs = true;
  }
  load_conditioning(session, m);
  if (!o.quiet && !session.from_manifest.empty()) {
    std::string list;
    for (const auto& item : session.from_manifest) list += (list.empty() ? "" : ", ") + item;
    std::fprintf(stderr, "note: from the model's manifest (%s): %s\n", unet_path.c_str(), list.c_str());
  }
  return session;
}

RunSpec make_spec(const Session& session, const RunOptions& o, const SchedulerConfig& config,
                  const std::string& sampler, int steps, const std::vector<int64_t>& shape) {
  RunSpec spec;
  spec.sampler = sampler;
  spec.steps = steps;  // 0: the sampler's default
  spec.seed = parse_seed(o.seed);
  spec.shape = shape;
  if (shape.size() == 1) {  // a batch alone (sweep --batch): the rest from the model's default shape
    spec.shape = session.unet->sample_shape().value_or(std::vector<int64_t>{1, 4, 64, 64});
    spec.shape[0] = shape[0];
  }
  spec.eta = o.eta;
  spec.guidance = o.guidance ? o.guidance : session.manifest_guidance;
  spec.config = config;
  spec.warmup = o.warmup;
  spec.repeat = o.repeat;
  spec.vary_seed = o.vary_seed;
  return resolve(session, spec);
}

}  // namespace diffbench::cli
