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

#include "diffbench/measure/contention.h"
#include "diffbench/measure/session.h"
#include "diffbench/core/frechet.h"
#include "diffbench/schedule/sampler.h"
#include "diffbench/measure/profiler.h"
#include "diffbench/schedule/scheduler_config.h"

namespace diffbench {

/// One run to measure.
struct RunSpec {
  /// The sampler, as registered (samplers/registry.h: find_sampler); resolve() sets it.
  const SamplerInfo* sampler = nullptr;
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
  double page_faults_per_repeat = 0;  ///< the process's page faults over the counted repeats, per repeat
  int64_t device_peak_bytes = 0;  ///< CUDA caching allocator peak during this run (0 on CPU)
  std::optional<double> cold_forward_s;  ///< set in the one run that made the process's first forward call
  std::string timing = "host";  ///< the clock of its step times: "host", "cuda events" or "cuda sync" (device.h)
  std::string process_id;  ///< the process that measured it (SessionRecord::process_id)
  double cpu_user_s = 0, cpu_sys_s = 0;  ///< CPU time of the process during this run (all threads, warm-ups too)
  std::vector<std::string> warnings;  ///< noise the reader should know about (see timing_warnings)
  std::optional<Contention> contention;  ///< other processes on the cores during this run (contention.h)
  std::optional<double> vae_tiling_overlap_rmse;  ///< --vae-tiling: the tiles' disagreement (vae_tiling.h)
  std::optional<Quality> quality;  ///< set when a reference was asked for
  std::optional<FdQuality> fd;  ///< set by --quality fd
  std::optional<ProfileResult> profile;  ///< set by --profile
};

/// Measure one spec. Non-finite latents mark the result failed (and stop it);
/// a signal throws Interrupted after the finished repeats are kept in *partial.
/// The session's first forward call is timed apart, once: the first run given a `record` without
/// `cold_forward_s` measures it there (and in its result); later runs find it recorded.
RunResult run(const Session& session, SessionRecord& record, const RunSpec& spec, const ProgressFn& progress = {});

}  // namespace diffbench
