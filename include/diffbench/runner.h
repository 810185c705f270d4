#pragma once
/// Running a sampler on a loaded model with honest timing: warm-up runs that are
/// not counted, repeats from the same seed, per-step model / sampler / rest times.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <functional>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "diffbench/contention.h"
#include "diffbench/frechet.h"
#include "diffbench/manifest.h"
#include "diffbench/model.h"
#include "diffbench/sampler.h"
#include "diffbench/profiler.h"
#include "diffbench/scheduler_config.h"
#include "diffbench/vae_tiling.h"

namespace diffbench {

/// Models and settings shared by every run of one process.
struct Session {
  std::unique_ptr<Model> unet;  ///< forward(sample, timestep[, encoder_hidden_states])
  std::unique_ptr<Model> vae;  ///< forward(latents) -> images in [-1, 1]; may be null
  ModelManifest manifest;  ///< the UNet's manifest, parsed once when it was opened
  c10::Device device = c10::Device(c10::kCPU);
  c10::ScalarType dtype = c10::kFloat;
  int threads = 1;  ///< intra-op threads LibTorch was given
  int interop_threads = 0;  ///< --interop-threads (0: not given, LibTorch's default)
  LoadOptions load;  ///< --freeze, --channels-last: applied to the UNet and the VAE
  std::optional<VaeTiling> vae_tiling;  ///< --vae-tiling
  bool cuda_graphs = false;  ///< --cuda-graphs: the UNet call is a replayed CUDA graph
  double vae_scaling_factor = 0.18215;  ///< latents are divided by this before decoding
  at::Tensor cond;  ///< [B, L, D] conditioning for 3-input UNets
  at::Tensor uncond;  ///< [B, L, D] unconditional embedding (CFG)
  std::string cond_source, uncond_source;  ///< .npy path, "zeros" (timing only), or "" (none)
};

/// What opening a session and its first forward call measured, and the process it ran in: kept
/// apart from the Session (models and settings), written once by whoever measured it, read by the
/// reporters (the JSON context).
struct SessionRecord {
  std::vector<std::string> from_manifest;  ///< "key=value" the manifest supplied (printed, in JSON)
  double unet_load_s = 0, vae_load_s = 0;  ///< model load times, never mixed into step times
  std::optional<double> cold_forward_s;  ///< the first forward call after loading (run() times it)
  std::string process_id;  ///< unique per process: host, pid, start time
  double load_at_start = 0;  ///< 1-minute load average when the session opened
  std::vector<std::string> command_line;  ///< argv, recorded in the report's context
};

/// The UNet file's SHA-256 (hashed once per file and process: a large UNet takes seconds).
const std::string& unet_sha256(const Session& session);
/// The VAE file's SHA-256 ("" without a VAE).
const std::string& vae_sha256(const Session& session);

/// "host-pid-nanoseconds": a process identity no other process on any host shares.
std::string new_process_id();

/// One run to measure.
struct RunSpec {
  std::string sampler = "ddim";
  std::string model_name;  ///< the UNet's file name, shown in tables when runs differ (the session's model runs)
  int steps = 0;  ///< resolve() sets it (a RunSpec built by hand must set it)
  uint64_t seed = 0;
  std::vector<int64_t> shape;  ///< latent shape B,C,H,W
  double eta = 0.0;  ///< DDIM eta
  std::optional<double> guidance;  ///< CFG scale (resolve() sets it; unset runs unguided)
  SchedulerConfig config;
  int warmup = 1;  ///< full runs before the counted ones
  int repeat = 3;  ///< counted runs
  bool vary_seed = false;  ///< repeat k uses seed + k instead of seed
};

/// How a run ended: every repeat finished, a step's latents went NaN/Inf, or a signal stopped it.
enum class RunStatus { ok, failed, interrupted };
/// "ok", "failed" or "interrupted": the spelling of the JSON and the tables.
const char* status_name(RunStatus status);

/// One counted repeat.
struct RepeatResult {
  uint64_t seed = 0;
  double total_s = 0;  ///< initial noise + all steps + VAE decode
  double init_noise_s = 0;  ///< drawing and scaling the initial latents
  double vae_s = 0;  ///< VAE decode (0 without a VAE)
  double rest_s = 0;  ///< total - initial noise - steps - VAE (checks, copies)
  std::vector<double> step_s;  ///< wall time of each step
  std::vector<double> model_s;  ///< model forward time within each step
};

/// Final latents (and images) against a reference run from the same initial noise.
struct Quality {
  std::string reference;  ///< "SAMPLER:STEPS"
  double rmse = 0, max_abs = 0, psnr_db = 0;  ///< latents
  double image_rmse = 0, image_max_abs = 0, image_psnr_db = 0;  ///< decoded images, when a VAE is given
  bool has_images = false;
  bool per_sample = false;  ///< a stochastic sampler: one sample vs one sample, not a distributional metric
};

/// RMSE, max |a - ref| and PSNR = 20 log10(peak / RMSE) (infinite when equal).
void compare_tensors(const at::Tensor& a, const at::Tensor& ref, double peak, double* rmse, double* max_abs,
                     double* psnr_db);

/// --profile: one extra, uncounted repeat under the operator profiler.
struct ProfileResult {
  std::string trace;  ///< the Chrome trace file written
  double wall_s = 0;  ///< the profiled repeat's total time (profiling adds overhead)
  std::vector<OpCost> top;  ///< the most expensive operators by self time
};

/// Progress of a run, reported after every step (for a progress bar).
struct Progress {
  int run = 0, runs = 1;  ///< repeat index (warm-ups included) and how many
  int step = 0, steps = 1;  ///< steps finished in this repeat and how many
  double elapsed_s = 0;  ///< since the run's first repeat started
};
using ProgressFn = std::function<void(const Progress&)>;

/// Everything measured for one RunSpec.
struct RunResult {
  RunSpec spec;  ///< as asked, with steps and guidance resolved
  Plan plan;
  std::vector<RepeatResult> repeats;
  at::Tensor latents;  ///< final latents of the last repeat (float32, CPU)
  at::Tensor images;  ///< decoded images of the last repeat (float32, CPU, [-1,1])
  RunStatus status = RunStatus::ok;
  std::string error;  ///< why it failed
  int failed_step = -1;  ///< 0-based step whose output was NaN/Inf or whose model call failed (steps: the VAE decode)
  int64_t peak_rss_bytes = 0;  ///< peak resident memory during this run (see peak_rss_scope)
  int64_t rss_start_bytes = 0;  ///< resident memory when the run started (models loaded): peak - this is the run's own
  std::string peak_rss_scope = "run";  ///< "run" (high-water mark reset at its start) or "process"
  int64_t device_peak_bytes = 0;  ///< CUDA caching allocator peak during this run (0 on CPU)
  std::optional<double> cold_forward_s;  ///< set in the one run that made the process's first forward call
  std::string process_id;  ///< the process that measured it (SessionRecord::process_id)
  double cpu_user_s = 0, cpu_sys_s = 0;  ///< CPU time of the process during this run (all threads, warm-ups too)
  std::vector<std::string> warnings;  ///< noise the reader should know about (see timing_warnings)
  std::optional<Contention> contention;  ///< other processes on the cores during this run (contention.h)
  std::optional<double> vae_tiling_overlap_rmse;  ///< --vae-tiling: the tiles' disagreement (vae_tiling.h)
  std::optional<Quality> quality;  ///< set when a reference was asked for
  std::optional<FdQuality> fd;  ///< set by --quality fd
  std::optional<ProfileResult> profile;  ///< set by --profile
};

/// What a caller asks of one run. resolve() settles every field left unset, each in one place: the
/// request's value, else the model's manifest, else the sampler's default.
struct SpecRequest {
  std::string sampler = "ddim";
  std::optional<int> steps;  ///< unset: the manifest's (for its own sampler), else the sampler's
  std::optional<std::vector<int64_t>> shape;  ///< B,C,H,W; unset: the manifest's sample_shape, else 1,4,64,64
  std::optional<int64_t> batch;  ///< replaces B of the shape (a sweep's batch axis)
  uint64_t seed = 0;
  double eta = 0.0;
  std::optional<double> guidance;  ///< unset: the manifest's guidance_scale, else the sampler's default
  SchedulerOverrides scheduler;  ///< on the manifest's scheduler config (else SD 1.5's)
  int warmup = 1, repeat = 3;
  bool vary_seed = false;
};

/// A resolved spec and what the manifest supplied for it ("4 steps for lcm", "scheduler config ...").
struct Resolution {
  RunSpec spec;
  std::vector<std::string> from_manifest;
  std::vector<std::string> warnings;  ///< scheduler-config keys diffbench does not read
};

/// The one resolution of a run: every default filled (request, else manifest, else sampler) and
/// every check against the session made before any work; UsageError naming the setting if impossible.
Resolution resolve(const Session& session, const SpecRequest& request);

/// Whether a run of `spec` on `session` uses classifier-free guidance (two UNet evaluations a step):
/// a conditional UNet and a scale above 1.
bool uses_guidance(const Session& session, const RunSpec& spec);

/// Why latents of `shape` and the activations they bring (32x the latents on the CPU) cannot fit in
/// `available_bytes`, as a usage message; "" when they fit. resolve() asks with /proc/meminfo's
/// MemAvailable.
std::string memory_refusal(const std::vector<int64_t>& shape, bool on_cpu, double available_bytes);

/// Measure one spec. Non-finite latents mark the result failed (and stop it);
/// a signal throws Interrupted after the finished repeats are kept in *partial.
/// The session's first forward call is timed apart, once: the first run given a `record` without
/// `cold_forward_s` measures it there (and in its result); later runs find it recorded.
RunResult run(const Session& session, SessionRecord& record, const RunSpec& spec, const ProgressFn& progress = {});

/// Hyperfine-style warnings on a run's counted totals: a first run much slower than the rest,
/// statistical outliers (modified z-score above 3.5, Iglewicz & Hoaglin).
std::vector<std::string> timing_warnings(const std::vector<double>& totals);

/// Warnings about the machine at start: a high load average, more threads than free cores.
std::vector<std::string> machine_warnings(int threads, unsigned cores, double load_average);

/// Fill result.quality against a reference run (same seed and shape).
void attach_quality(RunResult& result, const RunResult& reference, const std::string& reference_name, bool stochastic);

/// Set by signal handlers; checked after every step.
void request_stop(int signal_number);
/// The signal that asked to stop, or 0.
int stop_requested();

}  // namespace diffbench
