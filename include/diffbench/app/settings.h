#pragma once
// Everything a measurement is asked for, typed: how models are opened (SessionSettings), the spec
// request (steps, shape, seed, ...: resolved per run against the model by resolve()), the extra
// measurements and where results go. A front end fills a RunSetup (the CLI from its flags,
// src/cli/run_setup.cpp; a program by hand, examples/embed); everything in app/ reads only this.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "diffbench/core/frechet.h"
#include "diffbench/measure/resolve.h"
#include "diffbench/models/model.h"
#include "diffbench/models/vae_tiling.h"
#include "diffbench/report/tables.h"

namespace diffbench {

/// How models are opened: files, device, dtype, threads and load-time optimisations. (operator==
/// below compares every field: a new field goes there too.)
struct SessionSettings {
  std::string unet;  ///< the main UNet (--unet, --model DIR/unet.pt, else the default model)
  bool default_model = true;  ///< no --unet or --model: the default model, whose students apply
  std::map<std::string, std::string> model_for;  ///< --model-for SAMPLER=FILE
  std::string vae, cond, uncond;  ///< flags; "" : the manifest's
  std::optional<std::vector<int64_t>> cond_shape;
  c10::Device device = c10::Device(c10::kCPU);
  std::optional<c10::ScalarType> dtype;  ///< unset: the manifest's, else fp32
  std::optional<int> threads;  ///< unset: every core this process may use
  bool pin = false;
  bool keep_heap = true;  ///< --heap keep (true) or release
  bool trim_before_runs = true;  ///< Session::trim_before_runs (no flag: ab's blocks set it false)
  int interop_threads = 0;  ///< 0: LibTorch's default
  LoadOptions load;
  bool compiled = false;  ///< --compiled: the manifest's AOTInductor package of the dtype, not the TorchScript file
  std::optional<VaeTiling> vae_tiling;
  bool cuda_graphs = false;
  bool cuda_events = true;  ///< --cuda-timing events (true) or sync
  std::optional<double> vae_scaling_factor;  ///< unset: the manifest's, else SD's 0.18215
};

/// Every field equal: two setups that open the same models the same way (ab's sides then share them).
bool operator==(const SessionSettings& a, const SessionSettings& b);

/// The extra measurements of a run: --quality fd and --reference.
struct QualitySetup {
  bool fd = false;  ///< any quality figure (FD is always measured with KID or FD at infinite n)
  QualityMetrics metrics;  ///< the figures beyond FD
  int64_t samples = 1000;
  std::string feature_model, reference_stats;  ///< flags; "" : the manifest's
  std::optional<std::pair<std::string, int>> reference;  ///< SAMPLER:STEPS
};

/// Where results go and how much is said.
struct OutputSetup {
  std::string json, csv, markdown, save_latents, save_images, profile;
  TimeUnit time_unit = TimeUnit::automatic;
  bool quiet = false, verbose = false;
};

struct RunSetup {
  std::vector<std::string> command_line;  ///< the program's argv, recorded in every report
  SessionSettings session;
  std::string sampler;  ///< --sampler ("" : the model's own, else the lecture's six)
  SpecRequest spec;  ///< steps, shape, seed, eta, guidance, scheduler, warmup, repeat (sampler: per run)
  QualitySetup quality;
  OutputSetup out;
};

}  // namespace diffbench
