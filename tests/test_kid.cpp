// KID against hand-computed kernel values, its weighted (bootstrap) form against explicit copies,
// Gaussians of one and of two distributions, and real digits outside the shipped reference.
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

at::Tensor kid_normal(int64_t n, int64_t d, uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn({n, d}, gen, at::TensorOptions().dtype(at::kDouble));
}

double kernel_value(const at::Tensor& a, const at::Tensor& b) {
  return std::pow(at::dot(a, b).item<double>() / a.size(0) + 1, 3);
}

}  // namespace

TEST(Kid, MatchesHandComputedKernelValues) {
  // D = 1, k(x, y) = (xy + 1)^3. x = {0, 1}: within mean k(0, 1) = 1. y = {2, 3}: k(2, 3) = 343.
  // Cross: k(0,2) = k(0,3) = 1, k(1,2) = 27, k(1,3) = 64: mean 23.25. KID = 1 + 343 - 46.5.
  at::Tensor x = at::tensor({0.0, 1.0}, at::kDouble).reshape({2, 1});
  at::Tensor y = at::tensor({2.0, 3.0}, at::kDouble).reshape({2, 1});
  EXPECT_DOUBLE_EQ(kid(x, y), 297.5);
  // Unbiased, so it can be negative: x against itself is 1 + 1 - 2 (1 + 1 + 1 + 8) / 4.
  EXPECT_DOUBLE_EQ(kid(x, x), -3.5);
}

TEST(Kid, CountWeightsEqualExplicitCopiesWithoutSelfPairs) {
  at::Tensor x = kid_normal(4, 3, 1), y = kid_normal(3, 3, 2);
  at::Tensor wx = at::tensor({2.0, 0.0, 1.0, 1.0}, at::kDouble), wy = at::tensor({1.0, 2.0, 0.0}, at::kDouble);
  // Brute force over the drawn copies, leaving out pairs of copies of the same row.
  std::vector<int64_t> dx = {0, 0, 2, 3}, dy = {0, 1, 1};
  auto within = [](const at::Tensor& f, const std::vector<int64_t>& rows) {
    double sum = 0;
    int pairs = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      for (size_t j = 0; j < rows.size(); ++j) {
        if (rows[i] == rows[j]) continue;
        sum += kernel_value(f[rows[i]], f[rows[j]]);
        ++pairs;
      }
    }
    return sum / pairs;
  };
  double cross = 0;
  for (int64_t i : dx) {
    for (int64_t j : dy) cross += kernel_value(x[i], y[j]);
  }
  cross /= double(dx.size() * dy.size());
  EXPECT_NEAR(KidKernels(x, y).value(wx, wy), within(x, dx) + within(y, dy) - 2 * cross, 1e-12);
}

TEST(Kid, IntervalHoldsZeroForOneDistributionAndNotForAShiftedOne) {
  at::Tensor real = kid_normal(1500, 8, 3), same = kid_normal(500, 8, 4), shifted = kid_normal(500, 8, 5) + 0.3;
  KidResult s = kid_with_interval(same, real, 200, 20, 400, 6);
  EXPECT_LE(s.ci_low, 0.0);
  EXPECT_GE(s.ci_high, 0.0);
  EXPECT_EQ(s.subset_size, 400);
  KidResult d = kid_with_interval(shifted, real, 200, 20, 400, 6);
  EXPECT_GT(d.ci_low, 0.0);
  EXPECT_GT(d.subset_mean, 0.0);
  EXPECT_GT(d.subset_std, 0.0);
}

TEST(Kid, RealDigitsOutsideTheReferenceScoreZeroWithinTheirInterval) {
  // train_digit_features.npy: 1,000 training digits (not among the 2,000 held-out reference
  // images) through the shipped feature network; docs/quality.md gives the command that wrote it.
  ReferenceStats stats = load_reference_stats(DIFFBENCH_SOURCE_DIR "/models/digits/fd_stats.json");
  ASSERT_TRUE(stats.features.defined());
  EXPECT_EQ(stats.features.size(0), 2000);
  EXPECT_EQ(stats.features.size(1), 128);
  at::Tensor train = from_npy(read_file(DIFFBENCH_SOURCE_DIR "/tests/data/train_digit_features.npy", "fixture"),
                              "train_digit_features.npy");
  FdQuality q = quality_of_features(train, stats, {true, false}, 0);
  ASSERT_TRUE(q.kid.has_value());
  EXPECT_LE(q.kid->ci_low, 0.0);
  EXPECT_GE(q.kid->ci_high, 0.0);
  // The same images blurred away from the data: KID's interval leaves 0.
  FdQuality off = quality_of_features(train * 0.7, stats, {true, false}, 0);
  EXPECT_GT(off.kid->ci_low, 0.0);
  EXPECT_GT(off.fd.fd, q.fd.fd);
}
