// The two extra measurements attached to a run: --quality fd (QualityRunner) and --reference
// SAMPLER:STEPS (ReferenceRunner).
#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diffbench/app/runners.h"
#include "diffbench/app/open_session.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/core/sha256.h"
#include "diffbench/quality/quality.h"
#include "diffbench/quality/reference_quality.h"
#include "diffbench/measure/resolve.h"
#include "diffbench/measure/session.h"
#include "diffbench/samplers/registry.h"

namespace diffbench {

QualityRunner::QualityRunner(const RunSetup& setup, const Session& session)
    : samples_(setup.quality.samples), metrics_(setup.quality.metrics) {
  if (!setup.quality.fd) return;
  const ModelFiles files = model_files(setup, session.manifest);
  if (files.features.empty() || files.fd_stats.empty()) {
    throw UsageError(
        fmt::format("{} fd needs {} FILE.pt and {} FILE.json (or a model manifest that names them); "
                    "docs/quality.md says how to make both",
                    setting_name("quality"), setting_name("feature_model"), setting_name("reference_stats")));
  }
  if (!session.vae) throw UsageError(fmt::format("{} fd needs {} (images are decoded latents)", setting_name("quality"), setting_name("vae")));
  features_ = std::make_unique<ScriptModel>(files.features, ModelRole::features, std::vector<int>{1}, session.device,
                                            at::kFloat);
  stats_ = load_reference_stats(files.fd_stats);
  std::string sha = sha256_file(files.features);
  if (!stats_->feature_model_sha256.empty() && stats_->feature_model_sha256 != sha) {
    throw UsageError(
        fmt::format("{} '{}' was made with another feature model than '{}' (sha256 "
                    "differs): the distance would mean nothing; use the pair that belongs together",
                    setting_name("reference_stats"), files.fd_stats, files.features));
  }
  const int64_t dim = stats_->moments.mean.numel();
  if (metrics_.fd_infinity && samples_ < min_samples_for_infinity(dim)) {
    throw UsageError(
        fmt::format("{} fd_inf fits FD on subsets from max(n/5, 2D) to n: with {} features it "
                    "needs {} >= {}, got {}",
                    setting_name("quality"), dim, setting_name("samples"), min_samples_for_infinity(dim), samples_));
  }
  if (metrics_.kid && !stats_->features.defined()) throw UsageError(setting_name("quality") + " kid " + kid_needs_features(*stats_));
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

void QualityRunner::attach(const Session& session, SessionRecord& record, RunResult& result) {
  if (!features_ || result.status != RunStatus::ok) return;
  result.fd = measure_fd(session, record, result.spec, *features_, *stats_, samples_, metrics_);
}

std::string QualityRunner::legend() const {
  if (!features_) return "";
  return fmt::format(
      "FD: Frechet distance of {} generated images' features ({}) to '{}' ({}), bootstrap 95% CI{}; "
      "s/image: sampling + decode per image, timed apart from the repeats above.\n{}{}",
      samples_, features_->path(), stats_->path, stats_->description, floor_text(*stats_, samples_),
      metrics_.kid ? "KID: unbiased kernel distance (cubic polynomial kernel) to the reference images' features, "
                     "bootstrap 95% CI; its expectation for real data is 0 at any n, so it needs no floor.\n"
                   : "",
      metrics_.fd_infinity
          ? "FD(inf): FD on subsets from max(n/5, 2D) to n fitted linearly in 1/n (Chong & Forsyth 2020), "
            "comparable across n and models; bootstrap 95% CI.\n"
          : "");
}

std::string ReferenceRunner::name() const {
  return reference_ ? fmt::format("{}:{}", reference_->first, reference_->second) : "";
}

void ReferenceRunner::attach(const Session& session, SessionRecord& record, RunResult& result) {
  if (!reference_ || result.status != RunStatus::ok) return;
  // The run's own settings (its resolved config and guidance), the reference's sampler and steps.
  const RunSpec& spec = result.spec;
  SpecRequest ref;
  ref.sampler = reference_->first;
  ref.steps = reference_->second;
  ref.shape = spec.shape;
  ref.seed = spec.seed;
  ref.eta = spec.eta;
  ref.guidance = spec.guidance;
  ref.scheduler.file = spec.config;
  ref.warmup = 0;
  ref.repeat = 1;
  std::string key = fmt::format("{}|{}|{}", name(), ref.seed, fmt::join(spec.shape, "x"));
  auto cached = runs_.find(key);
  if (cached == runs_.end()) cached = runs_.emplace(key, run(session, record, resolve(session, ref).spec)).first;
  attach_quality(result, cached->second, name(), is_stochastic(*result.spec.sampler, result.spec.eta));
}

}  // namespace diffbench
