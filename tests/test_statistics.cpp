// Statistics against hand-computed values on small literal inputs.
#include <cmath>

#include <gtest/gtest.h>

#include "diffbench/core/statistics.h"

using namespace diffbench;

TEST(Statistics, MedianOfOddAndEvenCounts) {
  EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2.0);
  EXPECT_DOUBLE_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_DOUBLE_EQ(median({7}), 7.0);
}

TEST(Statistics, QuantilesInterpolateLinearly) {
  std::vector<double> v = {1, 2, 3, 4};  // numpy.quantile([1,2,3,4], [0.25, 0.75]) = 1.75, 3.25
  EXPECT_DOUBLE_EQ(quantile(v, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(quantile(v, 0.75), 3.25);
  EXPECT_DOUBLE_EQ(quantile(v, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(quantile(v, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(quantile({10, 20, 30, 40, 50}, 0.1), 14.0);
}

TEST(Statistics, SummaryOfASmallSample) {
  Summary s = summarize({2, 4, 4, 4, 5, 5, 7, 9});
  EXPECT_EQ(s.n, 8u);
  EXPECT_DOUBLE_EQ(s.mean, 5.0);
  EXPECT_DOUBLE_EQ(s.median, 4.5);
  EXPECT_NEAR(s.stddev, std::sqrt(32.0 / 7.0), 1e-12);  // sum of squares 32, n - 1 = 7
  EXPECT_DOUBLE_EQ(s.min, 2.0);
  EXPECT_DOUBLE_EQ(s.max, 9.0);
  EXPECT_DOUBLE_EQ(s.q1, 4.0);
  EXPECT_DOUBLE_EQ(s.q3, 5.5);
  EXPECT_DOUBLE_EQ(s.iqr, 1.5);
  EXPECT_NEAR(s.cv, std::sqrt(32.0 / 7.0) / 5.0, 1e-12);
  EXPECT_TRUE(s.noisy);  // 1.5 / 4.5 > 10%
  EXPECT_EQ(s.samples, (std::vector<double>{2, 4, 4, 4, 5, 5, 7, 9}));  // measurement order kept
}

TEST(Statistics, MedianIntervalFromOrderStatistics) {
  // n = 10: P(Bin(10, 1/2) <= 1) = 11/1024, so (x_(2), x_(9)) covers 1 - 22/1024 = 0.978515625 >= 95%;
  // (x_(3), x_(8)) would cover 1 - 2 * 56/1024 = 0.890625 < 95%.
  std::vector<double> v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  MedianInterval ci = median_interval(v);
  EXPECT_DOUBLE_EQ(ci.low, 2.0);
  EXPECT_DOUBLE_EQ(ci.high, 9.0);
  EXPECT_DOUBLE_EQ(ci.coverage, 1 - 22.0 / 1024);
  // n = 3: no pair reaches 95%; [min, max] covers 1 - 2/8 = 0.75.
  MedianInterval small = median_interval({1, 2, 3});
  EXPECT_DOUBLE_EQ(small.low, 1.0);
  EXPECT_DOUBLE_EQ(small.high, 3.0);
  EXPECT_DOUBLE_EQ(small.coverage, 0.75);
  // n = 6: (x_(1), x_(6)) covers 1 - 2/64 = 0.96875.
  EXPECT_DOUBLE_EQ(median_interval({1, 2, 3, 4, 5, 6}).coverage, 1 - 2.0 / 64);
}

TEST(Statistics, EmptyAndSingleSamples) {
  EXPECT_EQ(summarize({}).n, 0u);
  Summary one = summarize({0.5});
  EXPECT_DOUBLE_EQ(one.median, 0.5);
  EXPECT_DOUBLE_EQ(one.stddev, 0.0);
  EXPECT_FALSE(one.noisy);
}
