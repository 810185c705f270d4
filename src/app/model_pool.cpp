#include "diffbench/app/model_pool.h"

#include <algorithm>
#include <cstdio>

#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diffbench/core/errors.h"
#include "diffbench/measure/resolve.h"
#include "diffbench/app/open_session.h"
#include "diffbench/samplers/registry.h"

namespace diffbench {
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

ModelPool::ModelPool(const RunSetup& setup, bool samplers_named) : setup_(setup), samplers_named_(samplers_named) {
  slot(setup_.session.unet);
}

ModelPool::Slot& ModelPool::slot(const std::string& path) {
  for (auto& s : slots_) {
    if (s->path == path) return *s;
  }
  auto s = std::make_unique<Slot>();
  s->path = path;
  s->session = open_session(setup_, path, s->record);
  s->measurer = std::make_unique<Measurer>(setup_, s->session, s->record);
  slots_.push_back(std::move(s));
  return *slots_.back();
}

std::vector<std::string> ModelPool::default_samplers() const {
  const ModelManifest& m = slots_.front()->session.manifest;
  return m.sampler.empty() ? lecture_samplers() : std::vector<std::string>{m.sampler};
}

std::string ModelPool::path_for(const std::string& sampler) const {
  auto given = setup_.session.model_for.find(sampler);
  if (given != setup_.session.model_for.end()) return given->second;
  const ModelManifest& m = slots_.front()->session.manifest;
  auto named = m.sampler_models.find(sampler);
  if (setup_.session.default_model && named != m.sampler_models.end()) return named->second;
  return slots_.front()->path;
}

RunSpec ModelPool::spec(const std::string& sampler, std::optional<int> steps, const std::vector<int64_t>& shape,
                        std::vector<std::string>* warnings) {
  SpecRequest request = setup_.spec;
  if (steps) request.steps = steps;
  if (shape.size() == 1) request.batch = shape[0];  // a batch alone: the rest from the setup or the model
  if (shape.size() == 4) request.shape = shape;
  return spec_for(request, sampler, warnings);
}

RunSpec ModelPool::spec_for(SpecRequest request, const std::string& sampler, std::vector<std::string>* warnings) {
  Slot& s = slot(path_for(sampler));
  request.sampler = sampler;
  Resolution resolved = resolve(s.session, request);
  resolved.spec.model_name = file_name(s.path);
  warnings->insert(warnings->end(), resolved.warnings.begin(), resolved.warnings.end());
  std::vector<std::string> taken;  // what the manifest supplied, said once per model
  if (s.session.manifest.sampler == sampler && !samplers_named_) taken.push_back("sampler " + sampler);
  taken.insert(taken.end(), resolved.from_manifest.begin(), resolved.from_manifest.end());
  if (!taken.empty() && !s.noted) {  // once per model, on stderr and in the JSON context
    s.noted = true;
    for (const auto& item : taken) s.record.from_manifest.push_back(item);
    if (!setup_.out.quiet) {
      std::fprintf(stderr, "note: %s: from its manifest: %s (flags override)\n", s.path.c_str(),
                   fmt::format("{}", fmt::join(taken, ", ")).c_str());
    }
  }
  return resolved.spec;
}

}  // namespace diffbench
