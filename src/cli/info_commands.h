#pragma once
// `diffbench list` and `diffbench schedule`.
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace diffbench::cli {

void setup_list(CLI::App& app, ListOptions& options);
int run_list(const ListOptions& options);

void setup_schedule(CLI::App& app, ScheduleOptions& options);
int run_schedule(const ScheduleOptions& options);

}  // namespace diffbench::cli
