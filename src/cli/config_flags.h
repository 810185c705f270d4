#pragma once
// The scheduler flags `run`, `sweep` and `schedule` share: --config plus per-key overrides.
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/options.h"

namespace diffbench::cli {

void add_config_flags(CLI::App& app, ConfigFlags& flags);

}  // namespace diffbench::cli
