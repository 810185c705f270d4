// The sampler registry, generated from list.def (this folder), and the checks of every plan.
#include "diffbench/samplers/registry.h"

#include <string>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/names.h"
#include "diffbench/core/parse.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/schedule/scheduler_keys.h"

namespace diffbench {

#define DIFFBENCH_SAMPLER(name) extern const SamplerInfo name##_sampler;
#include "samplers/list.def"
#undef DIFFBENCH_SAMPLER

const std::vector<const SamplerInfo*>& all_samplers() {
  static const std::vector<const SamplerInfo*> samplers = {
#define DIFFBENCH_SAMPLER(name) &name##_sampler,
#include "samplers/list.def"
#undef DIFFBENCH_SAMPLER
  };
  return samplers;
}

const SamplerInfo& find_sampler(const std::string& name) {
  std::vector<std::string> names;
  for (const SamplerInfo* s : all_samplers()) {
    if (s->name == name) return *s;
    names.push_back(s->name);
  }
  throw UsageError(unknown_name_message("sampler", name, names) + "; see 'diffbench list'");
}

std::pair<std::string, int> parse_sampler_steps(const std::string& text, const std::string& setting,
                                                const std::string& example) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos)
    throw UsageError(fmt::format("{} '{}': expected SAMPLER:STEPS, e.g. {}", setting, text, example));
  const std::string name = text.substr(0, colon);
  find_sampler(name);
  const std::optional<int64_t> steps = parse_positive(std::string_view(text).substr(colon + 1), 1'000'000);
  if (!steps)
    throw UsageError(fmt::format("{} '{}': STEPS must be a positive integer, e.g. {}", setting, text, example));
  return {name, static_cast<int>(*steps)};
}

namespace {

// A model is trained on one path: a velocity on the flow path, or epsilon/v/x0 on a beta schedule.
// (x0 reads on both.) Sampled on the other, it gives latents that mean nothing.
void check_dialect(const SamplerInfo& sampler, const SchedulerConfig& config) {
  if (sampler.both_paths) return;
  const PredictionType type = config.prediction_type;
  if (!sampler.flow && type == PredictionType::flow_prediction) {
    throw UsageError(
        fmt::format("{} samples models trained on a beta schedule, but this model predicts a flow-matching velocity "
                    "(prediction_type flow_prediction): use a flow sampler ({})",
                    sampler.name, fmt::join(flow_samplers(), ", ")));
  }
  if (sampler.flow && type != PredictionType::flow_prediction && type != PredictionType::sample) {
    throw UsageError(fmt::format(
        "{} samples flow-matching models (x = (1 - sigma) x0 + sigma noise), but prediction_type is {}, a "
        "beta-schedule model's: use another sampler, or {} flow_prediction (a FlowMatch scheduler config implies "
        "it) if the model predicts the flow velocity",
        sampler.name, name_of(type), setting_name("prediction_type")));
  }
}

// Sigma spacings diffbench runs for flow_euler only: elsewhere a run would silently differ from
// the diffusers class that honours them, so it is refused instead.
void check_spacing(const SamplerInfo& sampler, const SchedulerConfig& config) {
  for (const auto& [set, key] : {std::pair{config.use_exponential_sigmas, "use_exponential_sigmas"},
                                 std::pair{config.use_beta_sigmas, "use_beta_sigmas"}}) {
    if (set && (sampler.name != "flow_euler" || std::string(key) == "use_beta_sigmas")) {
      throw UsageError(
          fmt::format("{} is not run by diffbench's {} (exponential sigmas: flow_euler only); set it "
                      "false, or use {} for Karras sigmas",
                      key, sampler.name, setting_name("karras")));
    }
  }
}

}  // namespace

std::vector<std::string> flow_samplers() {
  std::vector<std::string> names;
  for (const SamplerInfo* s : all_samplers()) {
    if (s->flow || s->both_paths) names.push_back(s->name);
  }
  return names;
}

Plan plan_for(const SamplerInfo& sampler, const NoiseSchedule& schedule, const SchedulerConfig& config, int steps) {
  check_dialect(sampler, config);
  check_spacing(sampler, config);
  check_class_keys(sampler.name, config);
  Plan plan = sampler.plan(schedule, config, steps);
  if (config.use_karras_sigmas && !sampler.uses_karras) {
    plan.notes.push_back(
        fmt::format("{} ignores use_karras_sigmas (as its diffusers scheduler does): recorded as false", sampler.name));
  }
  const double last = schedule.size() - 1;
  if (!plan.flow_matching && !plan.timesteps.empty() && plan.timesteps.front() < 0.9 * last) {
    const double max_sigma = schedule.sigmas()[static_cast<size_t>(last)];
    plan.notes.push_back(fmt::format(
        "the first timestep is t={:g} of {:g} ({} spacing at {} step(s)): the initial noise is treated as if at "
        "sigma {:.3g} instead of {:.3g}, so the result stays noisy; {} trailing starts at t={:g}",
        plan.timesteps.front(), last, name_of(plan.timestep_spacing.value_or(config.timestep_spacing)), steps,
        plan.sigmas.front(), max_sigma, setting_name("timestep_spacing"), last));
  }
  return plan;
}

std::vector<std::string> eta_samplers() {
  std::vector<std::string> names;
  for (const SamplerInfo* s : all_samplers()) {
    if (s->uses_eta) names.push_back(s->name);
  }
  return names;
}

const std::vector<std::string>& lecture_samplers() {
  static const std::vector<std::string> names = {"ddpm", "ddim", "dpmpp_2m", "euler_a", "lcm", "turbo"};
  return names;
}

}  // namespace diffbench
