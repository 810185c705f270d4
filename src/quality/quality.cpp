// --quality fd: images from the sampler, features from a TorchScript network, the distance to a
// data set's statistics. Seeds: batch k of a run starts from seed + k, so N images are the same
// images whatever else runs, and two samplers are compared on the same initial noise.
#include "diffbench/quality/quality.h"

#include <cmath>
#include <filesystem>

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>

#include "core/clock.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/files.h"
#include "diffbench/core/npy.h"
#include "diffbench/core/sha256.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/measure/stop.h"
#include "diffbench/measure/session.h"
#include "diffbench/core/json_depth.h"

namespace diffbench {
namespace {

at::Tensor tensor_from(const nlohmann::json& values, const std::string& path, const char* key) {
  try {
    std::vector<double> flat;
    if (values.is_array() && !values.empty() && values[0].is_array()) {
      for (const auto& row : values) {
        for (const auto& v : row) flat.push_back(v.get<double>());
      }
      auto n = static_cast<int64_t>(values.size());
      return at::tensor(flat, at::kDouble).reshape({n, static_cast<int64_t>(flat.size()) / n});
    }
    for (const auto& v : values) flat.push_back(v.get<double>());
    return at::tensor(flat, at::kDouble);
  } catch (const std::exception&) {
    throw UsageError(fmt::format("reference statistics '{}': \"{}\" must be an array of numbers", path, key));
  }
}

// The reference images' features beside the statistics: an .npy [M, D] with the statistics' D.
void load_reference_features(ReferenceStats& s, const nlohmann::json& name) {
  if (!name.is_string() || name.get<std::string>().empty()) {
    throw UsageError(fmt::format("reference statistics '{}': \"features_file\" must be a file name", s.path));
  }
  const std::filesystem::path file = std::filesystem::path(s.path).parent_path() / name.get<std::string>();
  s.features_file = file.string();
  // A statistics file copied without its features still serves FD (the moments suffice); KID, which
  // needs the features, says which file is missing (kid_needs_features).
  if (!std::filesystem::exists(file)) return;
  s.features = from_npy(read_file(s.features_file, "reference features"), s.features_file).to(at::kDouble);
  if (s.features.dim() != 2 || s.features.size(0) < 2 || s.features.size(1) != s.moments.mean.numel()) {
    throw UsageError(fmt::format("reference features '{}' must be [M >= 2, {}] (the statistics' dimension), got {}",
                                 s.features_file, s.moments.mean.numel(), s.features.sizes()));
  }
}

}  // namespace

std::string kid_needs_features(const ReferenceStats& stats) {
  if (stats.features_file.empty()) {
    return fmt::format(
        "needs the reference images' features, and '{}' names no \"features_file\"; write "
        "one with scripts/fd_stats.py (docs/quality.md)",
        stats.path);
  }
  return fmt::format(
      "needs the reference images' features, and '{}' (named by '{}') does not exist; copy it "
      "beside the statistics or write both again with scripts/fd_stats.py (docs/quality.md)",
      stats.features_file, stats.path);
}

ReferenceStats load_reference_stats(const std::string& path) {
  const std::string text = read_file(path, "reference statistics");
  auto doc = json_nesting_problem(text).empty() ? nlohmann::json::parse(text, nullptr, false) : nlohmann::json();
  if (doc.is_discarded() || !doc.is_object() || doc.value("format", "") != "diffbench-fd-stats") {
    throw UsageError(
        fmt::format("reference statistics '{}' is not a diffbench-fd-stats JSON file; write one with "
                    "scripts/fd_stats.py (docs/quality.md)",
                    path));
  }
  ReferenceStats s;
  s.path = path;
  s.description = doc.value("description", "");
  s.feature_model_sha256 = doc.value("feature_model_sha256", "");
  s.moments.mean = tensor_from(doc.value("mean", nlohmann::json()), path, "mean");
  s.moments.cov = tensor_from(doc.value("cov", nlohmann::json()), path, "cov");
  s.moments.n = doc.value("n", int64_t{0});
  const int64_t d = s.moments.mean.numel();
  if (d == 0 || s.moments.cov.dim() != 2 || s.moments.cov.size(0) != d || s.moments.cov.size(1) != d) {
    throw UsageError(
        fmt::format("reference statistics '{}': mean has {} values but cov is not {} x {}", path, d, d, d));
  }
  for (const auto& f : doc.value("floor", nlohmann::json::array())) {
    s.floor.emplace_back(f.value("n", int64_t{0}), f.value("fd", 0.0));
  }
  if (doc.contains("features_file")) load_reference_features(s, doc["features_file"]);
  return s;
}

std::optional<FdFloor> floor_for(const ReferenceStats& stats, int64_t n) {
  std::optional<std::pair<int64_t, double>> below, above;  // the nearest measured n on each side
  for (const auto& f : stats.floor) {
    if (f.first == n) return FdFloor{n, f.second};
    if (f.first < n && (!below || f.first > below->first)) below = f;
    if (f.first > n && (!above || f.first < above->first)) above = f;
  }
  if (!below || !above || below->first <= 0) return std::nullopt;
  const double x = 1.0 / double(n), x0 = 1.0 / double(below->first), x1 = 1.0 / double(above->first);
  const double fd = below->second + (above->second - below->second) * (x - x0) / (x1 - x0);
  return FdFloor{n, fd, below->first, above->first};
}

FdQuality quality_of_features(const at::Tensor& features, const ReferenceStats& stats, const QualityMetrics& metrics,
                              uint64_t seed) {
  FdQuality q;
  q.features = features.to(at::kCPU, at::kDouble).flatten(1);
  q.samples = q.features.size(0);
  q.reference_stats = stats.path;
  if (q.features.size(1) != stats.moments.mean.numel()) {
    throw UsageError(
        fmt::format("features of dimension {} but '{}' holds statistics of {}: use the feature model "
                    "the statistics were made with",
                    q.features.size(1), stats.path, stats.moments.mean.numel()));
  }
  q.fd = frechet_with_interval(q.features, stats.moments, 200, seed);
  if (metrics.kid) {
    if (!stats.features.defined()) throw UsageError("KID " + kid_needs_features(stats));
    q.kid = kid_with_interval(q.features, stats.features, 200, 100, 1000, seed);
  }
  if (metrics.fd_infinity) q.fd_infinity = frechet_at_infinity(q.features, stats.moments, 8, 50, seed);
  q.floor = floor_for(stats, q.samples);
  return q;
}

FdQuality measure_fd(const Session& session, SessionRecord& record, const RunSpec& spec, const Model& features,
                     const ReferenceStats& stats, int64_t samples, const QualityMetrics& metrics) {
  if (!session.vae)
    throw UsageError(setting_name("quality") + " fd needs a VAE (" + setting_name("vae") +
                     ", or a model manifest that names one)");
  c10::InferenceMode guard;
  const int64_t batch = spec.shape[0];
  RunSpec one = spec;
  one.warmup = 0;
  one.repeat = 1;
  one.vary_seed = false;
  std::vector<at::Tensor> images;
  double start = now_s();
  for (int64_t k = 0, made = 0; made < samples; ++k, made += batch) {
    one.seed = spec.seed + static_cast<uint64_t>(k);
    RunResult r = run(session, record, one);
    if (r.status == RunStatus::interrupted) throw Interrupted(stop_requested());
    if (r.status != RunStatus::ok)
      throw RuntimeError(fmt::format("{} fd: generating batch {} failed: {}", setting_name("quality"), k, r.error));
    images.push_back(r.images.slice(0, 0, std::min(batch, samples - made)));
  }
  const double generation_s = now_s() - start;
  start = now_s();
  std::vector<at::Tensor> feats;
  for (const auto& img : images)
    feats.push_back(features.forward({img.to(session.device, features.dtype())}).to(at::kCPU, at::kDouble));
  at::Tensor all = at::cat(feats).flatten(1);
  if (all.size(1) != stats.moments.mean.numel()) {
    throw UsageError(fmt::format(
        "{} '{}' gives {} features but '{}' holds statistics of {}: use the "
        "feature model the statistics were made with",
        setting_name("feature_model"), features.path(), all.size(1), stats.path, stats.moments.mean.numel()));
  }
  FdQuality q = quality_of_features(all, stats, metrics, spec.seed);
  q.generation_s = generation_s;
  q.features_s = now_s() - start;
  q.feature_model = features.path();
  q.feature_model_sha256 = sha256_file(features.path());
  return q;
}

}  // namespace diffbench
