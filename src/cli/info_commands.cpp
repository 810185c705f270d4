// `diffbench list` and `diffbench schedule`: what the samplers are and what they will do.
#include <algorithm>
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/common_options.h"
#include "cli/config_flags.h"
#include "cli/info_commands.h"
#include "cli/run_setup.h"
#include "diffbench/core/errors.h"
#include "diffbench/samplers/registry.h"
#include "diffbench/schedule/scheduler_keys.h"
#include "diffbench/schedule/scheduler_overrides.h"

namespace diffbench::cli {

void setup_list(CLI::App& app, ListOptions& o) {
  app.add_flag("--json", o.json,
               "print the samplers as JSON (name, description, paper, default_steps, stochastic, default_guidance, "
               "fixed_config_keys: the scheduler-config keys of its diffusers class it accepts only at the values "
               "it implements)");
}

int run_list(const ListOptions& o) {
  if (o.json) {
    nlohmann::json samplers = nlohmann::json::array();
    for (const SamplerInfo* s : all_samplers()) {
      samplers.push_back({{"name", s->name},
                          {"description", s->description},
                          {"paper", s->paper},
                          {"default_steps", s->default_steps},
                          {"stochastic", s->stochastic},
                          {"default_guidance", s->default_guidance},
                          {"fixed_config_keys", class_keys_json(s->name)}});
    }
    std::puts(nlohmann::json{{"samplers", samplers}, {"scheduler_config_keys", scheduler_config_keys()}}.dump(2).c_str());
    return kExitOk;
  }
  size_t width = 10;  // the longest name (dpmpp_2m_sde) sets the first column
  for (const SamplerInfo* s : all_samplers()) width = std::max(width, s->name.size());
  std::string out =
      fmt::format("{:<{}} {:>6}  {:<10}  {}\n", "Sampler", width, "Steps", "Stochastic", "Description / paper");
  for (const SamplerInfo* s : all_samplers()) {
    out += fmt::format("{:<{}} {:>6}  {:<10}  {}\n{:<{}}{}\n", s->name, width, s->default_steps,
                       s->stochastic ? "yes" : "no", s->description, "", width + 21, s->paper);
  }
  std::fputs(out.c_str(), stdout);
  return kExitOk;
}

void setup_schedule(CLI::App& app, ScheduleOptions& o) {
  add_sampler_option(app, o.sampler, Axes::schedule);
  add_steps_option(app, o.steps, Axes::schedule);
  add_config_flags(app, o.config);
}

int run_schedule(const ScheduleOptions& o) {
  std::vector<std::string> warnings;
  const SamplerInfo& sampler = find_sampler(o.sampler);
  SchedulerConfig base;  // no model here: a flow sampler's schedule is shown for a flow model
  if (sampler.flow) base.prediction_type = PredictionType::flow_prediction;
  SchedulerConfig config = apply_overrides(base, parse_config_flags(o.config, &warnings));
  for (const auto& w : warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  int steps = o.steps.value_or(sampler.default_steps);
  NoiseSchedule schedule(config);
  Plan plan = plan_for(sampler, schedule, config, steps);
  if (plan.timestep_spacing) config.timestep_spacing = *plan.timestep_spacing;  // record what ran
  nlohmann::json rows = nlohmann::json::array();
  for (int i = 0; i < plan.steps(); ++i) {
    rows.push_back({{"step", i},
                    {"timestep", plan.timesteps[i]},
                    {"sigma", plan.sigmas[i]},
                    {"alphas_cumprod", plan.alphas_cumprod[i]}});
  }
  nlohmann::json doc = {{"sampler", sampler.name},
                        {"steps", steps},
                        {"init_noise_sigma", plan.init_noise_sigma},
                        {"timestep_dtype", plan.integer_timesteps ? "int64" : "float32"},
                        {"final_sigma", plan.sigmas.back()},
                        {"notes", plan.notes},
                        {"scheduler_config", to_json(config)},
                        {"schedule", rows}};
  std::puts(doc.dump(2).c_str());
  return kExitOk;
}

}  // namespace diffbench::cli
