#pragma once
// A run's flags typed: every option of `run`, `sweep`, `ablate` and `ab` parsed and checked once,
// here, before any model loads. Commands, the model pool and the reporters read only this.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "cli/options.h"
#include "diffbench/app/settings.h"
#include "diffbench/core/frechet.h"
#include "diffbench/models/model.h"
#include "diffbench/report/tables.h"
#include "diffbench/measure/resolve.h"
#include "diffbench/models/vae_tiling.h"
#include "diffbench/schedule/scheduler_overrides.h"

namespace diffbench::cli {

/// The flags of `o` parsed into their types and checked; UsageError naming the flag otherwise.
RunSetup parse_run_setup(const RunOptions& o);

/// The scheduler flags as overrides (--config's file read and parsed here, once).
SchedulerOverrides parse_config_flags(const ConfigFlags& flags, std::vector<std::string>* warnings);

/// UsageError when two outputs (flag, path) name the same file, or two write to stdout.
void check_distinct_outputs(const std::vector<std::pair<std::string, std::string>>& outputs);

/// "lcm=models/digits/lcm.pt" items -> sampler -> file; UsageError for a bad item, an unknown
/// sampler or a sampler given twice.
std::map<std::string, std::string> parse_model_for(const std::vector<std::string>& items);

}  // namespace diffbench::cli
