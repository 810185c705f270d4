// A model's manifest, parsed once into its typed form.
#include "diffbench/models/manifest.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "diffbench/core/errors.h"
#include "diffbench/core/files.h"
#include "diffbench/models/model.h"
#include "diffbench/schedule/sampler.h"
#include "diffbench/samplers/registry.h"

namespace diffbench {
namespace {

struct Reader {
  const nlohmann::json& meta;
  std::string dir, origin;

  bool has(const char* key) const { return meta.contains(key) && !meta[key].is_null(); }
  [[noreturn]] void wrong(const char* key, const char* expected) const {
    throw UsageError(fmt::format("{}: {} must be {}, got {}", origin, key, expected, meta[key].dump()));
  }
  std::string text(const char* key) const {
    if (!has(key)) return "";
    if (!meta[key].is_string()) wrong(key, "a string");
    return meta[key].get<std::string>();
  }
  std::string file(const char* key) const {
    const std::string name = text(key);
    return name.empty() ? "" : dir + "/" + name;
  }
  // #42: steps 10^12 was read as -727379968 and blamed on a flag never given.
  int count(const char* key, int low, int high) const {
    const nlohmann::json& v = meta[key];
    if (!v.is_number_integer() || v.get<int64_t>() < low || v.get<int64_t>() > high) {
      throw UsageError(fmt::format("{}: {} must be an integer from {} to {}, got {}", origin, key, low, high, v.dump()));
    }
    return v.get<int>();
  }
  std::optional<double> number(const char* key) const {
    if (!has(key)) return std::nullopt;
    if (!meta[key].is_number()) wrong(key, "a number");
    return meta[key].get<double>();
  }
};

void read_scheduler_config(const Reader& r, ModelManifest& m) {
  if (!r.has("scheduler_config")) return;
  const nlohmann::json& value = r.meta["scheduler_config"];
  std::string text;
  if (value.is_object()) {
    text = value.dump();
    m.scheduler_config_source = r.meta.value("scheduler_config_source", r.origin);
  } else if (value.is_string()) {
    m.scheduler_config_source = r.dir + "/" + value.get<std::string>();
    text = read_file(m.scheduler_config_source, "scheduler config named by the manifest");
  } else {
    r.wrong("scheduler_config", "an object or a file name");
  }
  m.scheduler_config = parse_scheduler_config(text, m.scheduler_config_source, &m.warnings);
}

}  // namespace

ModelManifest parse_manifest(const nlohmann::json& meta, const std::string& model_path) {
  ModelManifest m;
  if (!meta.is_object()) return m;
  const std::string dir = model_path.find('/') == std::string::npos ? "." : model_path.substr(0, model_path.rfind('/'));
  const Reader r{meta, dir, fmt::format("the manifest of '{}'", model_path)};
  m.vae = r.file("vae");
  m.cond = r.file("cond");
  m.uncond = r.file("uncond");
  m.features = r.file("features");
  m.fd_stats = r.file("fd_stats");
  m.vae_scaling_factor = r.number("vae_scaling_factor");
  m.guidance_scale = r.number("guidance_scale");
  if (r.has("dtype")) m.dtype = parse_dtype(r.text("dtype"));
  if (r.has("prediction_type")) m.prediction_type = parse_prediction_type(r.text("prediction_type"));
  m.sampler = r.text("sampler");
  if (!m.sampler.empty()) find_sampler(m.sampler);  // an unknown name is an error naming the valid ones
  if (r.has("steps")) m.steps = r.count("steps", 1, 100000);
  read_scheduler_config(r, m);
  if (r.has("patch_size")) m.patch_size = r.count("patch_size", 1, 64);
  if (r.has("flow_sigmas")) m.flow_sigmas = parse_flow_sigmas(r.text("flow_sigmas"));
  for (const char* key : {"dtype_models", "packages"}) {
    if (!r.has(key)) continue;
    if (!meta[key].is_object()) r.wrong(key, "an object");
    auto& files = std::string(key) == "packages" ? m.packages : m.dtype_models;
    for (const auto& [dtype, file] : meta[key].items()) {
      if (!file.is_string()) throw UsageError(fmt::format("{}: {}.{} must be a file name", r.origin, key, dtype));
      files[parse_dtype(dtype)] = dir + "/" + file.get<std::string>();
    }
  }
  if (r.has("sampler_models")) {
    if (!meta["sampler_models"].is_object()) r.wrong("sampler_models", "an object");
    for (const auto& [sampler, file] : meta["sampler_models"].items()) {
      find_sampler(sampler);
      if (!file.is_string())
        throw UsageError(fmt::format("{}: sampler_models.{} must be a file name", r.origin, sampler));
      m.sampler_models[sampler] = dir + "/" + file.get<std::string>();
    }
  }
  return m;
}

}  // namespace diffbench
