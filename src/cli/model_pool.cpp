#include "cli/model_pool.h"

#include <algorithm>
#include <cstdio>

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

ModelPool::ModelPool(const RunOptions& o) : o_(o), model_for_(parse_model_for(o.model_for)) {
  slot(o.unet.empty() ? default_model_path() : o.unet);
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
  if (o_.unet.empty() && named != m.sampler_models.end()) return named->second;
  return slots_.front()->path;
}

SchedulerConfig ModelPool::config_for(Slot& s, const std::string& sampler, std::vector<std::string>* warnings) {
  const Session& m = s.session;
  const bool distilled = !m.manifest_config.empty() && m.manifest_sampler == sampler && o_.config.config_file.empty();
  if (!distilled) return build_config(o_.config, warnings);
  return build_config(o_.config, warnings, m.manifest_config, m.manifest_config_source);
}

RunSpec ModelPool::spec(const std::string& sampler, int steps, const std::vector<int64_t>& shape,
                        std::vector<std::string>* warnings) {
  Slot& s = slot(path_for(sampler));
  const Session& m = s.session;
  const bool own = m.manifest_sampler == sampler;
  std::vector<std::string> taken;  // what the manifest supplied, said once per model
  if (steps == 0 && own && m.manifest_steps) {
    steps = *m.manifest_steps;
    taken.push_back(fmt::format("{} step{}", steps, steps == 1 ? "" : "s"));
  }
  if (own && !m.manifest_config.empty() && o_.config.config_file.empty()) {
    taken.push_back("scheduler config " + m.manifest_config_source);
  }
  RunSpec spec = make_spec(m, o_, config_for(s, sampler, warnings), sampler, steps, shape);
  spec.model_name = file_name(s.path);
  if (!taken.empty() && !s.noted && !o_.quiet) {
    s.noted = true;
    std::fprintf(stderr, "note: %s is distilled for %s; from its manifest: %s (--steps and --config override)\n",
                 s.path.c_str(), sampler.c_str(), fmt::format("{}", fmt::join(taken, ", ")).c_str());
  }
  return spec;
}

}  // namespace diffbench::cli
