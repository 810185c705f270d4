#pragma once
/// The one resolution of a run: what a caller asks (SpecRequest), settled against the session's
/// model into a RunSpec: the request's value, else the model's manifest, else the sampler's default,
/// each field checked once.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "diffbench/measure/runner.h"
#include "diffbench/measure/session.h"
#include "diffbench/schedule/scheduler_config.h"
#include "diffbench/schedule/scheduler_overrides.h"

namespace diffbench {

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

/// The warning for an eta given to samplers that ignore it; none when all of them honour it.
std::optional<std::string> eta_warning(double eta, const std::vector<std::string>& samplers);

}  // namespace diffbench
