#include "cli/model_pool.h"

#include <algorithm>
#include <cstdio>

#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diffbench/errors.h"

namespace diffbench::cli {
namespace {

std::string file_name(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::vector<std::string> unique(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) {
    if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
  }
  return out;
}

std::map<std::string, std::string> parse_model_for(const std::vector<std::string>& items) {
  std::map<std::string, std::string> out;
  for (const auto& item : items) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      throw UsageError(fmt::format("--model-for '{}': expected SAMPLER=FILE, e.g. lcm=models/digits/lcm.pt", item));
    }
    std::string sampler = item.substr(0, eq);
    find_sampler(sampler);
    if (!out.emplace(sampler, item.substr(eq + 1)).second) {
      throw UsageError(fmt::format("--model-for names {} twice; give each sampler one model", sampler));
    }
  }
  return out;
}

ModelPool::ModelPool(const RunOptions& o, bool samplers_named)
    : o_(o), samplers_named_(samplers_named), model_for_(parse_model_for(o.model_for)) {
  if (!o.model_dir.empty()) {
    if (!o.unet.empty()) throw UsageError("give --model DIR or --unet FILE, not both");
    o_.unet = o.model_dir + "/unet.pt";
    if (access(o_.unet.c_str(), F_OK) != 0) {
      throw UsageError(fmt::format("--model '{}' has no unet.pt: give a folder written by scripts/export_diffusers.py",
                                   o.model_dir));
    }
  }
  slot(o_.unet.empty() ? default_model_path() : o_.unet);
}

ModelPool::Slot& ModelPool::slot(const std::string& path) {
  for (auto& s : slots_) {
    if (s->path == path) return *s;
  }
  RunOptions o = o_;
  o.unet = path;
  auto s = std::make_unique<Slot>();
  s->path = path;
  s->session = open_session(o);
  s->measurer = std::make_unique<Measurer>(o, s->session);
  slots_.push_back(std::move(s));
  return *slots_.back();
}

std::vector<std::string> ModelPool::default_samplers() const {
  const Session& m = slots_.front()->session;
  return m.manifest_sampler.empty() ? lecture_samplers() : std::vector<std::string>{m.manifest_sampler};
}

std::string ModelPool::path_for(const std::string& sampler) const {
  auto given = model_for_.find(sampler);
  if (given != model_for_.end()) return given->second;
  const Session& m = slots_.front()->session;
  auto named = m.sampler_models.find(sampler);
  if (o_.unet.empty() && named != m.sampler_models.end()) return named->second;  // the default model only
  return slots_.front()->path;
}

SchedulerConfig ModelPool::config_for(Slot& s, std::vector<std::string>* warnings) {
  const Session& m = s.session;
  // The manifest's scheduler config is the model's (its training schedule and prediction type):
  // it applies to every sampler run on the model, unless --config names another.
  const bool own = !m.manifest_config.empty() && o_.config.config_file.empty();
  SchedulerConfig c = own ? build_config(o_.config, warnings, m.manifest_config, m.manifest_config_source)
                          : build_config(o_.config, warnings);
  check_against_model(s, c);
  return c;
}

// A config that contradicts what the model was trained with would measure a model that does not
// exist: refused, saying which flag or file to change.
void ModelPool::check_against_model(const Slot& s, const SchedulerConfig& c) const {
  const nlohmann::json& meta = s.session.unet->metadata();
  const std::string given =
      o_.config.config_file.empty() ? "--prediction-type" : "--config '" + o_.config.config_file + "'";
  if (meta.contains("prediction_type") && meta["prediction_type"].is_string() &&
      meta["prediction_type"].get<std::string>() != name_of(c.prediction_type)) {
    throw UsageError(
        fmt::format("'{}' predicts {} (its manifest), but {} says prediction_type {}: drop it, or give "
                    "a config that matches the model",
                    s.path, meta["prediction_type"].get<std::string>(), given, name_of(c.prediction_type)));
  }
  if (!s.session.manifest_config.empty()) {
    std::vector<std::string> ignored;  // said when the model's own config was built
    const SchedulerConfig model =
        parse_scheduler_config(s.session.manifest_config, s.session.manifest_config_source, &ignored);
    if (model.num_train_timesteps != c.num_train_timesteps) {
      const std::string what =
          o_.config.config_file.empty() ? "--num-train-timesteps" : "--config '" + o_.config.config_file + "'";
      throw UsageError(
          fmt::format("'{}' was trained on {} timesteps (its scheduler config), but {} has "
                      "num_train_timesteps {}: use the model's config, or one with the same schedule",
                      s.path, model.num_train_timesteps, what, c.num_train_timesteps));
    }
  }
}

RunSpec ModelPool::spec(const std::string& sampler, int steps, const std::vector<int64_t>& shape,
                        std::vector<std::string>* warnings) {
  Slot& s = slot(path_for(sampler));
  const Session& m = s.session;
  const bool own = m.manifest_sampler == sampler;
  std::vector<std::string> taken;  // what the manifest supplied, said once per model
  if (own && !samplers_named_) taken.push_back("sampler " + sampler);
  if (steps == 0 && own && m.manifest_steps) {
    steps = *m.manifest_steps;
    taken.push_back(fmt::format("{} step{} for {}", steps, steps == 1 ? "" : "s", sampler));
  }
  if (!m.manifest_config.empty() && o_.config.config_file.empty()) {
    taken.push_back("scheduler config " + m.manifest_config_source);
  }
  RunSpec spec = make_spec(m, o_, config_for(s, warnings), sampler, steps, shape);
  spec.model_name = file_name(s.path);
  const auto& own_shape = m.unet->sample_shape();
  if (own_shape && own_shape->size() == 4 && spec.shape.size() == 4 && spec.shape[1] != (*own_shape)[1]) {
    throw UsageError(
        fmt::format("'{}' takes latents with {} channels (its manifest's sample_shape), but --shape gives "
                    "{}: keep C = {}",
                    s.path, (*own_shape)[1], spec.shape[1], (*own_shape)[1]));
  }
  if (!taken.empty() && !s.noted) {  // once per model, on stderr and in the JSON context
    s.noted = true;
    for (const auto& item : taken) s.session.from_manifest.push_back(item);
    if (!o_.quiet) {
      std::fprintf(stderr, "note: %s: from its manifest: %s (flags override)\n", s.path.c_str(),
                   fmt::format("{}", fmt::join(taken, ", ")).c_str());
    }
  }
  return spec;
}

}  // namespace diffbench::cli
