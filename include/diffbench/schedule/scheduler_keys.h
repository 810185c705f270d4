#pragma once
/// The scheduler-config keys of diffusers' scheduler classes that diffbench does not read as
/// settings (solver_order, algorithm_type, thresholding, ...): each sampler accepts the values it
/// implements, and a value it does not implement is a usage error, never silently ignored (#41).
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "diffbench/schedule/scheduler_config.h"

namespace diffbench {

/// Every key of those classes (a config written for another scheduler loads: its keys are kept in
/// SchedulerConfig::class_keys and checked against the sampler that runs).
const std::vector<std::string>& class_only_keys();

/// Throws UsageError naming the first key of `config.class_keys` that belongs to `sampler`'s
/// diffusers class and holds a value diffbench does not implement for it. Keys of other classes are
/// ignored, as diffusers' from_config ignores them.
void check_class_keys(const std::string& sampler, const SchedulerConfig& config);

/// For `diffbench list --json`: {"KEY": [accepted values...]} ("*": any value, inert while
/// thresholding is off) for `sampler`'s class.
nlohmann::json class_keys_json(const std::string& sampler);

}  // namespace diffbench
