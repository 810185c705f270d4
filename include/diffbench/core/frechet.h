#pragma once
/// The Frechet distance between two Gaussians fitted to feature sets (FID's formula, Heusel et
/// et al. 2017), computed in double precision from symmetric eigendecompositions only, so it can
/// never return a complex number or a negative trace; with a bootstrap interval.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "diffbench/core/kid.h"

namespace diffbench {

/// Mean [D] and unbiased covariance [D, D] (float64) of a feature set, with its size.
struct Moments {
  at::Tensor mean, cov;
  int64_t n = 0;
};

/// Moments of features [N, D] (N >= 2), in float64.
Moments moments(const at::Tensor& features);

/// |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2): the square roots come from eigh of
/// symmetric matrices, eigenvalues below 0 (rounding) clipped to 0. Exact for singular and
/// ill-conditioned covariances up to float64 rounding.
double frechet_distance(const Moments& a, const Moments& b);

/// FD of `features` to `reference` with a bootstrap interval: `resamples` draws of N rows with
/// replacement (seeded); the spread of their distances (2.5% to 97.5%) around their median, placed
/// around the estimate (resampling duplicates rows and inflates FD, so the raw quantiles are biased).
struct FrechetResult {
  double fd = 0, ci_low = 0, ci_high = 0;
  int64_t n = 0;
  int resamples = 0;
};
FrechetResult frechet_with_interval(const at::Tensor& features, const Moments& reference, int resamples = 200,
                                    uint64_t seed = 0);

/// FD extrapolated to infinitely many generated images (Chong & Forsyth, CVPR 2020): FD's bias
/// falls as 1/n with a slope that depends on the model, so FDs at different n, or of two models at
/// equal n, are not comparable; FD on random subsets of `points` sizes evenly spaced from
/// max(N/5, 2D) to N (drawn without replacement; below about 2D images the covariance of D
/// features is too poorly determined for the 1/n law), fitted by least squares as
/// FD(n) = value + slope / n, gives the intercept. Interval: `resamples` bootstrap draws of the N images, refitted, spread around their
/// median placed around the estimate (as frechet_with_interval).
struct FrechetInfinity {
  double value = 0, ci_low = 0, ci_high = 0, slope = 0;
  std::vector<std::pair<int64_t, double>> points;  ///< (n, FD of a subset of n) the fit used
  int resamples = 0;
};
FrechetInfinity frechet_at_infinity(const at::Tensor& features, const Moments& reference, int points = 8,
                                    int resamples = 50, uint64_t seed = 0);
/// The fewest images frechet_at_infinity takes for features of dimension `dim`: 4D (at least 50).
int64_t min_samples_for_infinity(int64_t dim);

/// The FD between two real samples of `n` images: what a perfect model would score at that n.
struct FdFloor {
  int64_t n = 0;
  double fd = 0;
  int64_t from_n = 0, to_n = 0;  ///< when interpolated: the two measured n it lies between (else 0)
  bool interpolated() const { return from_n != 0; }
};

/// Which figures beyond FD a quality measurement adds.
struct QualityMetrics {
  bool kid = false;  ///< KID against the reference features (needs ReferenceStats::features)
  bool fd_infinity = false;  ///< FD extrapolated to infinite n
};

/// What --quality fd measured for one run (see quality.h).
struct FdQuality {
  FrechetResult fd;
  int64_t samples = 0;  ///< images generated
  double generation_s = 0;  ///< sampling + VAE decode of all images (wall)
  double features_s = 0;  ///< feature extraction and the distance with its interval
  std::string feature_model, feature_model_sha256, reference_stats;
  std::optional<FdFloor> floor;  ///< the real-data floor at `samples`, when the statistics allow it
  std::optional<KidResult> kid;  ///< --quality ...,kid
  std::optional<FrechetInfinity> fd_infinity;  ///< --quality ...,fd_inf
  /// The generated images' features [N, D] (float64, CPU), image i from seed + i / B: kept in
  /// memory for paired differences between cells; never written to a report.
  at::Tensor features;
  /// The smallest difference from another figure this one's interval could resolve: its half-width.
  double resolvable() const { return (fd.ci_high - fd.ci_low) / 2; }
};

}  // namespace diffbench
