// scheduler_config.json reading: diffusers' keys, types checked, foreign keys tolerated.
#include "diffbench/schedule/scheduler_config.h"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "diffbench/core/errors.h"
#include "diffbench/core/files.h"
#include "diffbench/core/names.h"
#include "diffbench/schedule/scheduler_keys.h"
#include "diffbench/core/json_depth.h"

namespace diffbench {
namespace {

using json = nlohmann::json;

const char* type_name(const json& value) { return value.type_name(); }

[[noreturn]] void wrong_type(const std::string& origin, const std::string& key, const char* want, const json& value) {
  throw UsageError(
      fmt::format("config {}: key '{}' must be {}, got {} ({})", origin, key, want, type_name(value), value.dump()));
}

double as_number(const std::string& origin, const std::string& key, const json& v) {
  if (!v.is_number()) wrong_type(origin, key, "a number", v);
  return v.get<double>();
}

int as_int(const std::string& origin, const std::string& key, const json& v) {
  if (!v.is_number_integer() && !(v.is_number_float() && v.get<double>() == std::floor(v.get<double>()))) {
    wrong_type(origin, key, "an integer", v);
  }
  double value = v.get<double>();
  if (std::abs(value) > 1e9) wrong_type(origin, key, "an integer of reasonable size", v);
  return static_cast<int>(value);
}

bool as_bool(const std::string& origin, const std::string& key, const json& v) {
  if (!v.is_boolean()) wrong_type(origin, key, "true or false", v);
  return v.get<bool>();
}

std::string as_string(const std::string& origin, const std::string& key, const json& v) {
  if (!v.is_string()) wrong_type(origin, key, "a string", v);
  return v.get<std::string>();
}

using Setter = void (*)(SchedulerConfig&, const std::string& origin, const std::string& key, const json&);

struct Field {
  const char* key;
  Setter set;
};

// The options diffbench's samplers read (see SchedulerConfig).
const Field kFields[] = {
    {"num_train_timesteps",
     [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.num_train_timesteps = as_int(o, k, v); }},
    {"beta_start", [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.beta_start = as_number(o, k, v); }},
    {"beta_end", [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.beta_end = as_number(o, k, v); }},
    {"beta_schedule",
     [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.beta_schedule = parse_beta_schedule(as_string(o, k, v)); }},
    {"trained_betas",
     [](SchedulerConfig& c, auto& o, auto& k, auto& v) {
       if (!v.is_array()) wrong_type(o, k, "an array of numbers", v);
       std::vector<double> betas;
       for (const auto& b : v) betas.push_back(as_number(o, k, b));
       c.trained_betas = betas;
     }},
    {"rescale_betas_zero_snr",
     [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.rescale_betas_zero_snr = as_bool(o, k, v); }},
    {"timestep_spacing", [](SchedulerConfig& c, auto& o, auto& k,
                            auto& v) { c.timestep_spacing = parse_timestep_spacing(as_string(o, k, v)); }},
    {"steps_offset", [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.steps_offset = as_int(o, k, v); }},
    {"prediction_type", [](SchedulerConfig& c, auto& o, auto& k,
                           auto& v) { c.prediction_type = parse_prediction_type(as_string(o, k, v)); }},
    {"clip_sample", [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.clip_sample = as_bool(o, k, v); }},
    {"clip_sample_range",
     [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.clip_sample_range = as_number(o, k, v); }},
    {"set_alpha_to_one", [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.set_alpha_to_one = as_bool(o, k, v); }},
    {"use_karras_sigmas",
     [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.use_karras_sigmas = as_bool(o, k, v); }},
    {"original_inference_steps",
     [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.original_inference_steps = as_int(o, k, v); }},
    {"timestep_scaling",
     [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.timestep_scaling = as_number(o, k, v); }},
    {"use_exponential_sigmas",
     [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.use_exponential_sigmas = as_bool(o, k, v); }},
    {"use_beta_sigmas", [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.use_beta_sigmas = as_bool(o, k, v); }},
    {"shift", [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.shift = as_number(o, k, v); }},
    {"use_dynamic_shifting",
     [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.use_dynamic_shifting = as_bool(o, k, v); }},
    {"base_shift", [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.base_shift = as_number(o, k, v); }},
    {"max_shift", [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.max_shift = as_number(o, k, v); }},
    {"base_image_seq_len",
     [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.base_image_seq_len = as_int(o, k, v); }},
    {"max_image_seq_len", [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.max_image_seq_len = as_int(o, k, v); }},
    {"time_shift_type", [](SchedulerConfig& c, auto& o, auto& k,
                           auto& v) { c.time_shift_type = parse_time_shift_type(as_string(o, k, v)); }},
    {"shift_terminal", [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.shift_terminal = as_number(o, k, v); }},
    {"invert_sigmas", [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.invert_sigmas = as_bool(o, k, v); }},
    {"use_flow_sigmas", [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.use_flow_sigmas = as_bool(o, k, v); }},
    {"flow_shift", [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.flow_shift = as_number(o, k, v); }},
    {"stochastic_sampling",
     [](SchedulerConfig& c, auto& o, auto& k, auto& v) { c.stochastic_sampling = as_bool(o, k, v); }},
};

std::string line_and_column(const std::string& text, size_t byte) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n')
      ++line, column = 1;
    else
      ++column;
  }
  return fmt::format("line {}, column {}", line, column);
}

// An enum's diffusers spellings, in declaration order, converted at the JSON and CLI edges only.
template <typename Enum, size_t N>
Enum parse_name(const char* what, const std::string& text, const std::array<const char*, N>& names) {
  for (size_t i = 0; i < N; ++i) {
    if (text == names[i]) return static_cast<Enum>(i);
  }
  throw UsageError(unknown_name_message(what, text, std::vector<std::string>(names.begin(), names.end())));
}

constexpr std::array<const char*, 3> kBetaSchedules = {"linear", "scaled_linear", "squaredcos_cap_v2"};
constexpr std::array<const char*, 3> kSpacings = {"leading", "trailing", "linspace"};
constexpr std::array<const char*, 4> kPredictionTypes = {"epsilon", "v_prediction", "sample", "flow_prediction"};
constexpr std::array<const char*, 2> kTimeShiftTypes = {"exponential", "linear"};
constexpr std::array<const char*, 2> kFlowSigmas = {"scheduler", "linspace"};

}  // namespace

const char* name_of(BetaSchedule v) { return kBetaSchedules[static_cast<size_t>(v)]; }
const char* name_of(TimestepSpacing v) { return kSpacings[static_cast<size_t>(v)]; }
const char* name_of(PredictionType v) { return kPredictionTypes[static_cast<size_t>(v)]; }
const char* name_of(TimeShiftType v) { return kTimeShiftTypes[static_cast<size_t>(v)]; }
const char* name_of(FlowSigmas v) { return kFlowSigmas[static_cast<size_t>(v)]; }
BetaSchedule parse_beta_schedule(const std::string& t) {
  return parse_name<BetaSchedule>("beta schedule", t, kBetaSchedules);
}
TimestepSpacing parse_timestep_spacing(const std::string& t) {
  return parse_name<TimestepSpacing>("timestep spacing", t, kSpacings);
}
PredictionType parse_prediction_type(const std::string& t) {
  return parse_name<PredictionType>("prediction type", t, kPredictionTypes);
}
TimeShiftType parse_time_shift_type(const std::string& t) {
  return parse_name<TimeShiftType>("time shift type", t, kTimeShiftTypes);
}
FlowSigmas parse_flow_sigmas(const std::string& t) { return parse_name<FlowSigmas>("flow sigmas", t, kFlowSigmas); }

SchedulerConfig parse_scheduler_config(const std::string& text, const std::string& origin,
                                       std::vector<std::string>* warnings, SchedulerConfig config) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw UsageError(fmt::format("config {} is empty; expected a JSON object such as configs/sd15.json", origin));
  }
  json doc;
  if (const std::string deep = json_nesting_problem(text); !deep.empty())
    throw UsageError(fmt::format("config {} is not a scheduler config: {}", origin, deep));
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    std::string reason = e.what();
    size_t colon = reason.rfind(": ");
    reason = colon == std::string::npos ? reason : reason.substr(colon + 2);
    throw UsageError(fmt::format("config {} is not valid JSON at {}: {}", origin,
                                 line_and_column(text, e.byte ? e.byte - 1 : 0), reason));
  }
  if (!doc.is_object()) {
    throw UsageError(fmt::format("config {} must be a JSON object, got {}", origin, doc.type_name()));
  }
  // A flow-matching scheduler's config names no prediction type: its model predicts the velocity.
  const auto class_name = doc.find("_class_name");
  if (class_name != doc.end() && class_name->is_string() && class_name->get<std::string>().rfind("FlowMatch", 0) == 0 &&
      !doc.contains("prediction_type")) {
    config.prediction_type = PredictionType::flow_prediction;
  }
  for (const auto& [key, value] : doc.items()) {
    if (key.empty() || key[0] == '_') continue;  // _class_name, _diffusers_version: metadata
    const Field* field = nullptr;
    for (const auto& f : kFields) {
      if (key == f.key) field = &f;
    }
    if (field) {
      if (value.is_null()) continue;  // null means "not set"
      field->set(config, origin, key, value);
      continue;
    }
    // A key of a diffusers scheduler class that diffbench does not read as a setting: kept, and
    // checked against the sampler that runs (scheduler_keys.h). Any other key: a warning, with the
    // known key it is nearest to (a typo's setting would otherwise be silently the default).
    const auto& others = class_only_keys();
    if (std::find(others.begin(), others.end(), key) != others.end()) {
      config.class_keys[key] = value.dump();
    } else if (warnings) {
      std::vector<std::string> known(others);
      for (const auto& f : kFields) known.push_back(f.key);
      warnings->push_back(
          fmt::format("config {}: unknown key '{}' ignored{}", origin, key, did_you_mean(key, known)));
    }
  }
  validate(config);
  return config;
}

std::vector<std::string> scheduler_config_keys() {
  std::vector<std::string> keys;
  for (const auto& f : kFields) keys.push_back(f.key);
  return keys;
}

SchedulerConfig load_scheduler_config(const std::string& path, std::vector<std::string>* warnings) {
  return parse_scheduler_config(read_file(path, "config"), "'" + path + "'", warnings);
}

void validate(const SchedulerConfig& c) {
  if (c.trained_betas && c.trained_betas->empty()) throw UsageError("trained_betas is empty");
  int length = c.trained_betas ? static_cast<int>(c.trained_betas->size()) : c.num_train_timesteps;
  if (length < 2 || length > 100000) {
    throw UsageError(fmt::format("num_train_timesteps must be between 2 and 100000, got {}", length));
  }
  if (c.trained_betas) {
    for (double b : *c.trained_betas) {
      if (!(b > 0 && b < 1)) throw UsageError(fmt::format("trained_betas must lie in (0, 1), got {}", b));
    }
  } else if (!(c.beta_start > 0 && c.beta_end > 0 && c.beta_start < 1 && c.beta_end < 1)) {
    throw UsageError(
        fmt::format("beta_start and beta_end must lie in (0, 1), got {} and {}", c.beta_start, c.beta_end));
  } else if (c.beta_start > c.beta_end && c.beta_schedule != BetaSchedule::squaredcos_cap_v2) {
    // Betas rise over a schedule; reversed, the signal is destroyed first and sampling ends in NaN.
    throw UsageError(fmt::format("beta_start ({}) must not exceed beta_end ({}): betas rise over the schedule",
                                 c.beta_start, c.beta_end));
  }
  if (c.steps_offset < 0) throw UsageError(fmt::format("steps_offset must be >= 0, got {}", c.steps_offset));
  if (!(std::isfinite(c.shift) && c.shift > 0)) throw UsageError(fmt::format("shift must be > 0, got {}", c.shift));
  if (c.base_image_seq_len == c.max_image_seq_len) {  // mu is the line through both
    throw UsageError(fmt::format("base_image_seq_len and max_image_seq_len must differ, got {}", c.max_image_seq_len));
  }
  if (c.shift_terminal && !(*c.shift_terminal >= 0 && *c.shift_terminal < 1)) {
    throw UsageError(fmt::format("shift_terminal must lie in [0, 1), got {}", *c.shift_terminal));
  }
  if (c.mu && !std::isfinite(*c.mu)) throw UsageError(fmt::format("mu must be a finite number, got {}", *c.mu));
  if (c.original_inference_steps < 1) {
    throw UsageError(fmt::format("original_inference_steps must be >= 1, got {}", c.original_inference_steps));
  }
}

nlohmann::json to_json(const SchedulerConfig& c) {
  json j = {{"num_train_timesteps", c.num_train_timesteps},
            {"beta_start", c.beta_start},
            {"beta_end", c.beta_end},
            {"beta_schedule", name_of(c.beta_schedule)},
            {"trained_betas", nullptr},
            {"rescale_betas_zero_snr", c.rescale_betas_zero_snr},
            {"timestep_spacing", name_of(c.timestep_spacing)},
            {"steps_offset", c.steps_offset},
            {"prediction_type", name_of(c.prediction_type)},
            {"clip_sample", c.clip_sample},
            {"clip_sample_range", c.clip_sample_range},
            {"set_alpha_to_one", c.set_alpha_to_one},
            {"use_karras_sigmas", c.use_karras_sigmas},
            {"original_inference_steps", c.original_inference_steps},
            {"timestep_scaling", c.timestep_scaling},
            {"use_exponential_sigmas", c.use_exponential_sigmas}};
  if (c.trained_betas) j["trained_betas"] = *c.trained_betas;
  if (c.prediction_type == PredictionType::flow_prediction) {  // the flow-matching keys, where they apply
    j.update({{"shift", c.shift},
              {"use_dynamic_shifting", c.use_dynamic_shifting},
              {"base_shift", c.base_shift},
              {"max_shift", c.max_shift},
              {"base_image_seq_len", c.base_image_seq_len},
              {"max_image_seq_len", c.max_image_seq_len},
              {"time_shift_type", name_of(c.time_shift_type)},
              {"shift_terminal", c.shift_terminal ? json(*c.shift_terminal) : json(nullptr)},
              {"mu", c.mu ? json(*c.mu) : json(nullptr)},
              {"flow_sigmas", name_of(c.flow_sigmas)}});
  }
  return j;
}

}  // namespace diffbench
