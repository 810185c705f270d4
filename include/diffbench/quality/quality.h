#pragma once
/// `--quality fd`: generate N images with a sampler, decode them, extract features with a
/// TorchScript feature model, and report the Frechet distance to reference statistics. Timed
/// apart from the timing protocol's repeats, so it never blurs them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "diffbench/core/frechet.h"
#include "diffbench/models/model.h"
#include "diffbench/measure/runner.h"
#include "diffbench/measure/session.h"

namespace diffbench {

/// Reference statistics (scripts/fd_stats.py writes them; format in docs/quality.md).
struct ReferenceStats {
  std::string path, description, feature_model_sha256;
  Moments moments;
  std::vector<std::pair<int64_t, double>> floor;  ///< (n, FD between two real samples of n images)
  /// The reference images' own features [M, D] (float64), read from the file the statistics name
  /// as "features_file" (relative to the statistics file): KID needs samples, not moments. Undefined
  /// when the file names none or the named file is absent (FD needs only the moments).
  at::Tensor features;
  std::string features_file;
};

/// Read a statistics file (and its features file, when it names one); UsageError naming the file
/// and what is wrong.
ReferenceStats load_reference_stats(const std::string& path);

/// Why KID cannot run on `stats` (no features file named, or the named one absent), as the end of a
/// sentence that starts with what needs it.
std::string kid_needs_features(const ReferenceStats& stats);

/// The real-data floor at exactly `n` images: the entry measured at n, else the two measured n around
/// it interpolated linearly in 1/n (FD's small-sample bias falls roughly as 1/n). Outside the
/// measured range, or with no entries: nullopt, because a floor at another n is not comparable.
std::optional<FdFloor> floor_for(const ReferenceStats& stats, int64_t n);

/// Generate `samples` images with `spec` (batch B = spec.shape[0]; batch k uses seed spec.seed + k),
/// decode with the session's VAE, and measure FD. Needs session.vae. Interrupted (signals) and
/// RuntimeError (NaN, model errors) propagate. `record`: the session's, as run() takes it.
FdQuality measure_fd(const Session& session, SessionRecord& record, const RunSpec& spec, const Model& features,
                     const ReferenceStats& stats, int64_t samples, const QualityMetrics& metrics = {});

/// The figures of already extracted features [N, D] against `stats`: FD with its interval, and KID
/// and FD at infinite n when asked (seeded by `seed`). measure_fd's second half.
FdQuality quality_of_features(const at::Tensor& features, const ReferenceStats& stats, const QualityMetrics& metrics,
                              uint64_t seed);

}  // namespace diffbench
