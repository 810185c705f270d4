#pragma once
// `diffbench list` and `diffbench schedule`.
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/config_flags.h"

namespace diffbench::cli {

/// `diffbench list`: every sampler with its paper, default steps and stochasticity.
struct ListOptions {
  bool json = false;
};
void setup_list(CLI::App& app, ListOptions& options);
int run_list(const ListOptions& options);

/// `diffbench schedule --sampler X --steps N`: per-step timestep, sigma, alphas_cumprod as JSON.
struct ScheduleOptions {
  std::string sampler;
  std::optional<int> steps;
  ConfigFlags config;
};
void setup_schedule(CLI::App& app, ScheduleOptions& options);
int run_schedule(const ScheduleOptions& options);

}  // namespace diffbench::cli
