// The Frechet distance against closed forms: diagonal Gaussians, the 2x2 trace-of-square-root
// identity, singular and ill-conditioned covariances, a sample against itself, and the bootstrap
// interval's coverage of a known distance, and FD at infinite n against the exact distance.
#include <gtest/gtest.h>

#include <cmath>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/frechet.h"
#include "diffbench/quality/quality.h"

using namespace diffbench;

namespace {

Moments gaussian(std::vector<double> mean, std::vector<double> cov) {
  auto d = static_cast<int64_t>(mean.size());
  return {at::tensor(mean, at::kDouble), at::tensor(cov, at::kDouble).reshape({d, d}), 1000};
}

// Samples of N(mean, cov) (2-D), from a seeded generator.
at::Tensor draw(const Moments& m, int64_t n, uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor z = at::randn({n, m.mean.size(0)}, gen, at::TensorOptions().dtype(at::kDouble));
  return at::matmul(z, at::linalg_cholesky(m.cov).t()) + m.mean;
}

at::Tensor frechet_normal(int64_t n, int64_t d, uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn({n, d}, gen, at::TensorOptions().dtype(at::kDouble));
}

Moments identity_moments(int64_t d) { return {at::zeros({d}, at::kDouble), at::eye(d, at::kDouble), 1 << 30}; }

}  // namespace

TEST(Frechet, DiagonalGaussiansMatchTheClosedForm) {
  // |mu1 - mu2|^2 + sum (sqrt(a_i) - sqrt(b_i))^2 = (1 + 4) + (1 - 2)^2 + (3 - 1)^2 = 10.
  EXPECT_NEAR(frechet_distance(gaussian({1, 2}, {1, 0, 0, 9}), gaussian({0, 0}, {4, 0, 0, 1})), 10.0, 1e-12);
}

TEST(Frechet, FullCovariancesMatchTheTwoByTwoIdentity) {
  // For 2x2: tr sqrt(S1^1/2 S2 S1^1/2) = sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2)).
  Moments a = gaussian({0.5, -1}, {2.0, 0.7, 0.7, 1.0}), b = gaussian({0, 0}, {1.0, -0.4, -0.4, 3.0});
  double tr12 = 2.0 * 1.0 + 0.7 * -0.4 + 0.7 * -0.4 + 1.0 * 3.0;
  double det1 = 2.0 * 1.0 - 0.49, det2 = 3.0 - 0.16;
  double expected = 0.25 + 1.0 + 3.0 + 4.0 - 2 * std::sqrt(tr12 + 2 * std::sqrt(det1 * det2));
  EXPECT_NEAR(frechet_distance(a, b), expected, 1e-12);
  EXPECT_NEAR(frechet_distance(b, a), expected, 1e-12);  // symmetric
}

TEST(Frechet, SingularAndIllConditionedCovariances) {
  // Rank-deficient: S1 = diag(1, 0), S2 = diag(0, 1): the cross term vanishes, FD = 1 + 1.
  EXPECT_NEAR(frechet_distance(gaussian({0, 0}, {1, 0, 0, 0}), gaussian({0, 0}, {0, 0, 0, 1})), 2.0, 1e-12);
  // Condition number 1e12, rotated so nothing is diagonal: against itself the distance is 0
  // (up to rounding of a trace of 1e6), and never negative beyond it.
  double c = std::cos(0.3), s = std::sin(0.3), big = 1e6, small = 1e-6;
  double xx = c * c * big + s * s * small, xy = c * s * (big - small), yy = s * s * big + c * c * small;
  Moments m = gaussian({3, 4}, {xx, xy, xy, yy});
  double fd = frechet_distance(m, m);
  EXPECT_NEAR(fd, 0.0, 1e-6 * big);
  EXPECT_TRUE(std::isfinite(fd));
}

TEST(Frechet, ASampleAgainstItselfIsZero) {
  at::Tensor f = draw(gaussian({1, 2}, {2, 0.5, 0.5, 1}), 500, 1);
  EXPECT_NEAR(frechet_distance(moments(f), moments(f)), 0.0, 1e-9);
  EXPECT_THROW(moments(f.slice(0, 0, 1)), RuntimeError);  // one row has no covariance
}

TEST(Frechet, TheBootstrapIntervalCoversAKnownDistance) {
  Moments truth = gaussian({0.6, 0}, {1.5, 0.3, 0.3, 1.0});
  Moments reference = gaussian({0, 0}, {1, 0, 0, 1});
  const double expected = frechet_distance(truth, reference);
  int covered = 0;
  const int trials = 20;
  for (int t = 0; t < trials; ++t) {
    FrechetResult r = frechet_with_interval(draw(truth, 2000, 100 + t), reference, 200, t);
    EXPECT_LE(r.ci_low, r.fd);
    EXPECT_GE(r.ci_high, r.fd);
    covered += r.ci_low <= expected && expected <= r.ci_high;
  }
  EXPECT_GE(covered, 15) << "a 95% interval should cover the true FD in most of " << trials << " trials";
}

TEST(FrechetFloor, AtTheRunsOwnNMeasuredOrInterpolatedInOneOverNNeverBorrowedFromAnotherN) {
  ReferenceStats stats;
  stats.floor = {{100, 243.0}, {500, 97.0}, {2000, 23.0}};
  auto exact = floor_for(stats, 500);
  ASSERT_TRUE(exact.has_value());
  EXPECT_EQ(exact->fd, 97.0);
  EXPECT_FALSE(exact->interpolated());
  // n = 200 lies between 100 and 500: 1/200 is 3/8 of the way from 1/500 to 1/100.
  auto between = floor_for(stats, 200);
  ASSERT_TRUE(between.has_value());
  EXPECT_EQ(between->n, 200);
  EXPECT_NEAR(between->fd, 97.0 + 0.375 * (243.0 - 97.0), 1e-9);
  EXPECT_EQ(between->from_n, 100);
  EXPECT_EQ(between->to_n, 500);
  EXPECT_FALSE(floor_for(stats, 50).has_value());  // outside what was measured: no floor at all
  EXPECT_FALSE(floor_for(stats, 5000).has_value());
  EXPECT_FALSE(floor_for(ReferenceStats{}, 100).has_value());
}

TEST(FrechetInfinity, ExtrapolationRemovesTheSmallSampleBias) {
  // Samples of N(0.2, I) against exact N(0, I) moments: the exact FD is |mu|^2 = 16 x 0.04 = 0.64,
  // and FD on n samples is biased up by about D^2 / (2n) (here ~0.06 at n = 2000).
  const int64_t n = 2000, d = 16;
  at::Tensor f = frechet_normal(n, d, 13) + 0.2;
  const double exact = 0.64, at_n = frechet_distance(moments(f), identity_moments(d));
  FrechetInfinity inf = frechet_at_infinity(f, identity_moments(d), 8, 50, 14);
  EXPECT_LT(std::abs(inf.value - exact), std::abs(at_n - exact) / 2);
  EXPECT_LE(inf.ci_low, exact);
  EXPECT_GE(inf.ci_high, exact);
  EXPECT_GT(inf.slope, 0.0);
  EXPECT_EQ(inf.points.size(), 8u);
  EXPECT_EQ(inf.points.front().first, n / 5);
  EXPECT_EQ(inf.points.back().first, n);
}
