#pragma once
/// A session: the models one process opened, with their settings (read-only to runs), and what
/// opening and first using them measured (its record).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "diffbench/models/manifest.h"
#include "diffbench/models/model.h"
#include "diffbench/models/vae_tiling.h"

namespace diffbench {

/// The VAE scaling factor of Stable Diffusion 1.x/2.x: the default when neither the caller nor the
/// model's manifest gives one (the one place it is written).
constexpr double kSdVaeScalingFactor = 0.18215;

/// Models and settings shared by every run of one process.
struct Session {
  std::unique_ptr<Model> unet;  ///< forward(sample, timestep[, encoder_hidden_states])
  std::unique_ptr<Model> vae;  ///< forward(latents) -> images in [-1, 1]; may be null
  ModelManifest manifest;  ///< the UNet's manifest, parsed once when it was opened
  c10::Device device = c10::Device(c10::kCPU);
  c10::ScalarType dtype = c10::kFloat;
  int threads = 1;  ///< intra-op threads LibTorch was given
  bool heap_kept = false;  ///< freed memory stays in the process (--heap keep, on glibc)
  /// Each run first gives the freed memory of earlier runs back, so its peak resident memory is its
  /// own; its warm-up faults it in again. False for runs without a warm-up of their own that follow
  /// each other (ab's blocks), which would time those faults.
  bool trim_before_runs = true;
  int interop_threads = 0;  ///< --interop-threads (0: not given, LibTorch's default)
  LoadOptions load;  ///< --freeze, --channels-last: applied to the UNet and the VAE
  std::optional<VaeTiling> vae_tiling;  ///< --vae-tiling
  bool cuda_graphs = false;  ///< --cuda-graphs: the UNet call is a replayed CUDA graph
  bool cuda_events = true;  ///< on CUDA, time with events on the stream (false: synchronise at every mark)
  double vae_scaling_factor = kSdVaeScalingFactor;  ///< latents are divided by this before decoding
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
  int pinned_cpu = -1;  ///< --pin: the CPU the process was pinned to (-1: not pinned)
};

/// The UNet file's SHA-256 (hashed once per file and process: a large UNet takes seconds).
const std::string& unet_sha256(const Session& session);
/// The VAE file's SHA-256 ("" without a VAE).
const std::string& vae_sha256(const Session& session);

}  // namespace diffbench
