// What the UNet's manifest fills in, and the two extra measurements attached to a run:
// --quality fd (QualityRunner) and --reference SAMPLER:STEPS (ReferenceRunner).
#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/session.h"
#include "diffbench/errors.h"
#include "diffbench/io.h"
#include "diffbench/quality.h"

namespace diffbench::cli {

namespace {

// What a distilled model is made for (sampler, steps, scheduler config) and which models a
// teacher names for the samplers its students serve; files are relative to the manifest.
void read_distillation(const nlohmann::json& meta, const std::string& dir, Session& session) {
  const std::string origin = fmt::format("the manifest of '{}'", session.unet->path());
  if (meta.contains("sampler") && meta["sampler"].is_string()) {
    session.manifest_sampler = meta["sampler"].get<std::string>();
    find_sampler(session.manifest_sampler);  // an unknown name is an error naming the valid ones
  }
  if (meta.contains("steps") && meta["steps"].is_number_integer()) session.manifest_steps = meta["steps"].get<int>();
  if (meta.contains("scheduler_config") && meta["scheduler_config"].is_object()) {
    session.manifest_config = meta["scheduler_config"].dump();
    session.manifest_config_source = meta.value("scheduler_config_source", origin);
  } else if (meta.contains("scheduler_config") && meta["scheduler_config"].is_string()) {
    session.manifest_config_source = dir + "/" + meta["scheduler_config"].get<std::string>();
    session.manifest_config = read_file(session.manifest_config_source, "scheduler config named by the manifest");
  }
  if (meta.contains("sampler_models") && meta["sampler_models"].is_object()) {
    for (const auto& [sampler, file] : meta["sampler_models"].items()) {
      find_sampler(sampler);
      if (!file.is_string())
        throw UsageError(fmt::format("{}: sampler_models.{} must be a file name", origin, sampler));
      session.sampler_models[sampler] = dir + "/" + file.get<std::string>();
    }
  }
}

}  // namespace

RunOptions with_manifest(const RunOptions& o, Session& session) {
  RunOptions m = o;
  const nlohmann::json& meta = session.unet->metadata();
  const std::string path = session.unet->path();
  const std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
  auto file = [&](const char* key, std::string& target, bool allowed) {
    if (!allowed || !target.empty() || !meta.contains(key) || !meta[key].is_string()) return;
    target = dir + "/" + meta[key].get<std::string>();
    session.from_manifest.push_back(fmt::format("{}={}", key, target));
  };
  file("vae", m.vae, true);
  const bool cond_given = !o.cond.empty() || !o.cond_shape.empty();
  file("cond", m.cond, !cond_given);
  file("uncond", m.uncond, !cond_given);
  file("features", m.feature_model, true);
  file("fd_stats", m.reference_stats, true);
  if (!m.vae_scaling_factor && meta.contains("vae_scaling_factor") && meta["vae_scaling_factor"].is_number()) {
    m.vae_scaling_factor = meta["vae_scaling_factor"].get<double>();
    session.from_manifest.push_back(fmt::format("vae_scaling_factor={:.6g}", *m.vae_scaling_factor));
  }
  if (!o.guidance && meta.contains("guidance_scale") && meta["guidance_scale"].is_number()) {
    session.manifest_guidance = meta["guidance_scale"].get<double>();
    session.from_manifest.push_back(fmt::format("guidance_scale={:g}", *session.manifest_guidance));
  }
  session.manifest_features = m.feature_model;
  session.manifest_fd_stats = m.reference_stats;
  read_distillation(meta, dir, session);
  return m;
}

QualityRunner::QualityRunner(const RunOptions& o, const Session& session) : samples_(o.samples) {
  if (o.quality != "fd") return;
  RunOptions m = o;
  if (m.feature_model.empty()) m.feature_model = session.manifest_features;
  if (m.reference_stats.empty()) m.reference_stats = session.manifest_fd_stats;
  if (m.feature_model.empty() || m.reference_stats.empty()) {
    throw UsageError(
        "--quality fd needs --feature-model FILE.pt and --reference-stats FILE.json (or a model "
        "manifest that names them); docs/quality.md says how to make both");
  }
  if (!session.vae) throw UsageError("--quality fd needs --vae (images are decoded latents)");
  features_ = std::make_unique<ScriptModel>(m.feature_model, ModelRole::features, std::vector<int>{1}, session.device,
                                            at::kFloat);
  stats_ = load_reference_stats(m.reference_stats);
  std::string sha = sha256_file(m.feature_model);
  if (!stats_->feature_model_sha256.empty() && stats_->feature_model_sha256 != sha) {
    throw UsageError(
        fmt::format("--reference-stats '{}' was made with another feature model than '{}' (sha256 "
                    "differs): the distance would mean nothing; use the pair that belongs together",
                    m.reference_stats, m.feature_model));
  }
}

namespace {

// The floor at the run's own n, or why there is none: FD at n=100 and at n=200 are not comparable.
std::string floor_text(const ReferenceStats& stats, int64_t n) {
  if (stats.floor.empty()) return "";
  auto floor = floor_for(stats, n);
  if (!floor) {
    auto [low, high] = std::minmax_element(stats.floor.begin(), stats.floor.end());
    return fmt::format(
        "; WARNING: the real-data floor was measured at n={}..{} only, not at this run's n={}: "
        "no floor to compare with",
        low->first, high->first, n);
  }
  const std::string how = floor->interpolated()
                              ? fmt::format(", interpolated in 1/n between n={} and n={}", floor->from_n, floor->to_n)
                              : "";
  return fmt::format("; real-data floor (held-out vs training data, n={}{}): {:.2f}", floor->n, how, floor->fd);
}

}  // namespace

void QualityRunner::attach(Session& session, RunResult& result) {
  if (!features_ || result.status != RunStatus::ok) return;
  result.fd = measure_fd(session, result.spec, *features_, *stats_, samples_);
}

std::string QualityRunner::legend() const {
  if (!features_) return "";
  return fmt::format(
      "FD: Frechet distance of {} generated images' features ({}) to '{}' ({}), bootstrap 95% CI{}; "
      "s/image: sampling + decode per image, timed apart from the repeats above.\n",
      samples_, features_->path(), stats_->path, stats_->description, floor_text(*stats_, samples_));
}

std::string ReferenceRunner::name() const {
  return reference_ ? fmt::format("{}:{}", reference_->first, reference_->second) : "";
}

void ReferenceRunner::attach(Session& session, RunResult& result) {
  if (!reference_ || result.status != RunStatus::ok) return;
  RunSpec ref = result.spec;
  ref.sampler = reference_->first;
  ref.steps = reference_->second;
  ref.warmup = 0;
  ref.repeat = 1;
  ref.vary_seed = false;
  std::string key = fmt::format("{}|{}|{}", name(), ref.seed, fmt::join(ref.shape, "x"));
  auto cached = runs_.find(key);
  if (cached == runs_.end()) cached = runs_.emplace(key, run(session, resolve(session, ref))).first;
  attach_quality(result, cached->second, name(), is_stochastic(find_sampler(result.spec.sampler), result.spec.eta));
}

}  // namespace diffbench::cli
