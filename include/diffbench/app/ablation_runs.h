#pragma once
// `ablate`'s ladder through the library: the baseline, each configuration of the plan (the
// baseline's setup with its toggles) in a session of its own, the previous one freed first so its
// memory is its own, and the baseline once more at the end (how far the machine drifted). A
// configuration that cannot run is a row with its error, never the end (but the baseline's is).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "diffbench/app/settings.h"
#include "diffbench/measure/runner.h"
#include "diffbench/plans/ablation.h"

namespace diffbench {

/// The baseline's sampler when the setup names none.
inline constexpr const char* kAblationSampler = "ddim";

/// What the ladder tries: toggles (empty: the ones worth trying on this device, less those the
/// baseline has) and the few-step rung.
struct LadderRequest {
  std::vector<std::string> toggles;
  std::optional<FastSampler> fast;  ///< the last rung: all toggles plus a few-step sampler
  bool default_fast = true;  ///< no rung given: the default model's LCM student when it has one
};

/// One configuration's row, run and context.
struct AblationMeasured {
  AblationRow row;
  RunResult result;
  nlohmann::json run_json, context;
};

/// Every configuration measured, baseline first; `ablation` gets the device and the baseline's drift
/// (the derived figures are finish_ablation's). UsageError when no toggle applies or the baseline
/// cannot run.
std::vector<AblationMeasured> measure_ladder(const RunSetup& o, const LadderRequest& request, Ablation& ablation);

}  // namespace diffbench
