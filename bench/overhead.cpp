// How close a sampling run gets to its limit: N bare forward calls of the same TorchScript
// model at the same thread count. Issue targets (CPU, DDIM, 50 steps): within 2% on the
// default small model, within 5% on the tiny one. Run: build/bench/diffbench_overhead [model.pt ...]
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>

#include <cstdio>
#include <numeric>
#include <thread>

#include "core/clock.h"
#include "diffbench/core/errors.h"
#include "diffbench/models/model.h"
#include "diffbench/measure/runner.h"
#include "diffbench/measure/session.h"
#include "diffbench/measure/resolve.h"
#include "diffbench/core/statistics.h"

using namespace diffbench;

namespace {

// Time for `steps` bare forward calls (input and timestep prepared once).
double bare_forward_s(const Model& unet, const at::Tensor& x, int steps) {
  c10::InferenceMode guard;
  at::Tensor t = at::scalar_tensor(int64_t(500), at::kLong);
  double start = now_s();
  for (int i = 0; i < steps; ++i) unet.forward({x, t});
  return now_s() - start;
}

int measure(std::vector<std::string> models);

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> models;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::puts(
          "usage: diffbench_overhead [MODEL.pt ...]\n"
          "Times DDIM at 50 steps against 50 bare forward calls of the same 2-input TorchScript UNet,\n"
          "in 15 interleaved rounds, and prints the overhead (default: models/small.pt and tiny.pt).\n"
          "Targets: 2% on small.pt, 5% on tiny.pt (docs/measurement.md).");
      return 0;
    }
    if (!arg.empty() && arg[0] == '-') {
      std::fprintf(stderr, "error: unknown option '%s'; see diffbench_overhead --help\n", arg.c_str());
      return 2;
    }
    models.push_back(arg);
  }
  try {
    return measure(models);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", one_line(e).c_str());
    return 1;
  }
}

namespace {

int measure(std::vector<std::string> models) {
  if (models.empty()) models = {DIFFBENCH_SOURCE_DIR "/models/small.pt", DIFFBENCH_SOURCE_DIR "/models/tiny.pt"};
  const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  const int steps = 50, rounds = 15;
  fmt::print("{:<40} {:>12} {:>12} {:>9}\n", "model (ddim, 50 steps)", "bare fwd", "sampling", "overhead");
  for (const std::string& path : models) {
    Session session;
    SessionRecord record;
    session.threads = threads;
    session.unet =
        std::make_unique<ScriptModel>(path, ModelRole::unet, std::vector<int>{2}, session.device, session.dtype);
    SpecRequest request;
    request.sampler = "ddim";
    request.steps = steps;
    request.warmup = 0;
    request.repeat = 1;
    const RunSpec spec = resolve(session, request).spec;
    at::Tensor x = at::randn(spec.shape);
    bare_forward_s(*session.unet, x, steps);  // warm both paths up
    run(session, record, spec);
    // Interleaved rounds, so drift (frequency, other load) affects both sides alike.
    std::vector<double> bare, sampling, ratio;
    for (int r = 0; r < rounds; ++r) {
      bare.push_back(bare_forward_s(*session.unet, x, steps));
      sampling.push_back(run(session, record, spec).repeats.at(0).total_s);  // initial noise + all steps
      ratio.push_back(sampling.back() / bare.back());
    }
    fmt::print(
        "{:<40} {:>9.2f} ms {:>9.2f} ms {:>8.2f}%  (median of {} interleaved rounds; per-round ratio IQR {:.2f}%)\n",
        path.substr(path.rfind('/') + 1), median(bare) * 1e3, median(sampling) * 1e3, 100 * (median(ratio) - 1), rounds,
        100 * summarize(ratio).iqr);
  }
  return 0;
}

}  // namespace
