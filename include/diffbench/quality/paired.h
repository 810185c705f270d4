#pragma once
/// Paired quality differences: two cells generated from the same seeds make image i from the same
/// initial noise on both sides, so the bootstrap resamples the same image indices on both sides and
/// the noise they share cancels in the difference (far narrower than either side's own interval).
#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>

#include "diffbench/core/frechet.h"

namespace diffbench {

/// What a paired interval says about "a - b".
enum class QualityVerdict {
  lower,  ///< the interval lies wholly below 0: a scores lower (better) than b
  higher,  ///< wholly above 0: a scores higher (worse)
  same,  ///< the interval lies within +-margin of 0: no difference that matters
  undecided,  ///< neither: more samples would decide (see samples_to_decide)
};
const char* verdict_name(QualityVerdict v);

struct PairedDifference {
  std::string metric;  ///< "fd" or "kid"
  double a = 0, b = 0;  ///< each side's figure on all images
  double difference = 0, ci_low = 0, ci_high = 0;  ///< a - b with its paired bootstrap 95% interval
  double margin = 0;  ///< |difference| that counts as none (the "same" verdict)
  int64_t n = 0;
  int resamples = 0;
  QualityVerdict verdict = QualityVerdict::undecided;
  /// The n at which the paired interval would exclude 0 at the measured difference (its half-width
  /// falls as 1/sqrt(n)); 0 when the interval already excludes 0 or the difference is 0.
  int64_t samples_to_decide = 0;
};

/// FD(a) - FD(b) to `reference`, features [N, D] row-paired (the same N). A cell against itself
/// gives exactly 0 with a zero-width interval. UsageError-free: RuntimeError on mismatched shapes.
PairedDifference paired_fd(const at::Tensor& a, const at::Tensor& b, const Moments& reference, double margin,
                           int resamples = 200, uint64_t seed = 0);

/// KID(a) - KID(b) to reference features [M, D], rows of a and b paired; the reference rows are
/// resampled too (the same draw for both sides, so its own term cancels).
PairedDifference paired_kid(const at::Tensor& a, const at::Tensor& b, const at::Tensor& reference, double margin,
                            int resamples = 200, uint64_t seed = 0);

/// The verdict and samples_to_decide of a difference whose interval is set.
void decide(PairedDifference& d);

}  // namespace diffbench
