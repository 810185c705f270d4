#pragma once
// The sampler registry: every sampler of src/samplers/ (one file each, listed once in list.def),
// found by name, and a sampler's plan with the checks every run gets. Its own layer, after
// schedule/ (whose SamplerInfo each sampler fills) and before everything that picks a sampler.
#include <string>
#include <utility>
#include <vector>

#include "diffbench/schedule/sampler.h"

namespace diffbench {

/// Every registered sampler, in registration order.
const std::vector<const SamplerInfo*>& all_samplers();

/// The sampler called `name`; UsageError listing the valid names and the closest one.
const SamplerInfo& find_sampler(const std::string& name);

/// "dpmpp_2m:200" -> {"dpmpp_2m", 200}: a known sampler and a positive step count (the one parse of
/// SAMPLER:STEPS: --reference, a sweep's --cell and --quality-baseline, ablate's --fast); UsageError
/// naming `setting` and `text` otherwise, with `example` as a right value.
std::pair<std::string, int> parse_sampler_steps(const std::string& text, const std::string& setting,
                                                const std::string& example = "dpmpp_2m:200");

/// sampler.plan, plus a note when the first timestep is far below the schedule's last one (leading
/// spacing at few steps: a 1-step DDIM starts at t=1, so its "sample" is almost pure noise).
/// UsageError when the sampler cannot read the config's prediction type: a flow_prediction model
/// with a beta-schedule sampler, or an epsilon or v model with a flow sampler.
Plan plan_for(const SamplerInfo& sampler, const NoiseSchedule& schedule, const SchedulerConfig& config, int steps);

/// The samplers of flow-matching models (SamplerInfo::flow or both_paths), for messages.
std::vector<std::string> flow_samplers();

/// The samplers that honour --eta, for the warning given when others are asked for with it.
std::vector<std::string> eta_samplers();

/// The lecture's Part 1 table: ddpm, ddim, dpmpp_2m, euler_a, lcm, turbo (runs and sweeps with no
/// --sampler).
const std::vector<std::string>& lecture_samplers();

}  // namespace diffbench
