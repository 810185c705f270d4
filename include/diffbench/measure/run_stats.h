#pragma once
/// Every figure derived from one run's raw repeats, computed in one place (google/benchmark's
/// ComputeStats, hyperfine's BenchmarkResult). The reporters (JSON, console, Markdown, CSV, compare)
/// only format these.
#include "diffbench/measure/runner.h"
#include "diffbench/core/statistics.h"

namespace diffbench {

struct RunStats {
  Summary total;  ///< wall time of each counted repeat (initial noise + steps + VAE)
  Summary step;  ///< mean step time of each repeat
  Summary model;  ///< model time of each repeat (all steps)
  Summary sampler_time;  ///< steps' time minus model time, per repeat: the sampler's own cost
  Summary init_noise, vae, rest;
  double outside_model_fraction = 0;  ///< median over repeats of 1 - model / total
  double steps_per_s = 0;  ///< steps / median time in steps (VAE decode excluded)
  double images_per_s = 0;  ///< batch / median total
};

RunStats compute_stats(const RunResult& result);

}  // namespace diffbench
