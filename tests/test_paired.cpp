// Paired quality differences: a cell against itself, shared noise cancelling with the interval
// holding the population difference, and the verdict rule.
#include <gtest/gtest.h>

#include <cmath>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "diffbench/core/files.h"
#include "diffbench/core/frechet.h"
#include "diffbench/core/npy.h"
#include "diffbench/core/kid.h"
#include "diffbench/quality/paired.h"
#include "diffbench/quality/quality.h"

using namespace diffbench;

namespace {

at::Tensor paired_normal(int64_t n, int64_t d, uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn({n, d}, gen, at::TensorOptions().dtype(at::kDouble));
}

Moments standard_moments(int64_t d) { return {at::zeros({d}, at::kDouble), at::eye(d, at::kDouble), 1 << 30}; }

}  // namespace

TEST(Paired, ACellAgainstItselfIsExactlyZeroWithAZeroWidthInterval) {
  at::Tensor f = paired_normal(300, 6, 7) + 0.5, ref = paired_normal(600, 6, 8);
  for (const PairedDifference& d : {paired_fd(f, f, standard_moments(6), 2.0), paired_kid(f, f, ref, 0.01)}) {
    EXPECT_EQ(d.difference, 0.0) << d.metric;
    EXPECT_EQ(d.ci_low, 0.0) << d.metric;
    EXPECT_EQ(d.ci_high, 0.0) << d.metric;
    EXPECT_EQ(d.verdict, QualityVerdict::same) << d.metric;
    EXPECT_EQ(d.samples_to_decide, 0) << d.metric;
  }
}

TEST(Paired, SharedNoiseCancelsAndTheIntervalHoldsTheTrueDifference) {
  // b ~ N(mu, I) with mu = 1 in each of 4 dimensions, a = b + s with s = 0.1: FD(a) - FD(b) to
  // N(0, I) is |mu + s|^2 - |mu|^2 = 4 (1.21 - 1) = 0.84 in population. Each FD's noise is mostly
  // 2 mu.(sample mean - mu), shared by both sides; the difference's is only 2 s.(sample mean - mu).
  const int64_t n = 1000, d = 4;
  at::Tensor b = paired_normal(n, d, 9) + 1.0, s = at::full({d}, 0.1, at::kDouble), a = b + s;
  PairedDifference p = paired_fd(a, b, standard_moments(d), 0.0, 300, 10);
  EXPECT_LE(p.ci_low, 0.84);
  EXPECT_GE(p.ci_high, 0.84);
  EXPECT_EQ(p.verdict, QualityVerdict::higher);
  FrechetResult ua = frechet_with_interval(a, standard_moments(d), 300, 11),
                ub = frechet_with_interval(b, standard_moments(d), 300, 12);
  const double unpaired = std::hypot(ua.ci_high - ua.ci_low, ub.ci_high - ub.ci_low) / 2;
  EXPECT_GT(unpaired, 3 * (p.ci_high - p.ci_low) / 2);
}

TEST(Paired, VerdictFollowsTheIntervalAndTheMargin) {
  PairedDifference d;
  d.n = 1000;
  d.margin = 2;
  auto verdict = [&](double diff, double low, double high) {
    d.difference = diff;
    d.ci_low = low;
    d.ci_high = high;
    decide(d);
    return d.verdict;
  };
  EXPECT_EQ(verdict(-5, -8, -2), QualityVerdict::lower);
  EXPECT_EQ(verdict(5, 2, 8), QualityVerdict::higher);
  EXPECT_EQ(verdict(0.5, -1.5, 1.9), QualityVerdict::same);
  EXPECT_EQ(verdict(1, -2, 4), QualityVerdict::undecided);
  // Half-width 3 at n = 1000 and difference 1: it falls as 1/sqrt(n), so 9x the samples.
  EXPECT_EQ(d.samples_to_decide, 9000);
  EXPECT_STREQ(verdict_name(QualityVerdict::same), "same");
}
