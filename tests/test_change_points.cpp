// Change points over a series (`diffbench history`): Student's t against tabulated values, flat
// series that must stay quiet, steps that must be found at their index, and the newest point test.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "diffbench/gate/change_points.h"

using namespace diffbench;

namespace {

std::vector<double> series(std::mt19937_64& rng, int n, double sd, int step_at = -1, double step = 0) {
  std::normal_distribution<double> noise(0, sd);
  std::vector<double> x;
  for (int i = 0; i < n; ++i) x.push_back(0.1 * std::exp(noise(rng)) * (step_at >= 0 && i >= step_at ? 1 + step : 1));
  return x;
}

}  // namespace

TEST(ChangePoints, StudentTMatchesTables) {
  EXPECT_NEAR(student_t_upper(2.0, 10), 0.036694, 1e-6);  // two-sided 0.0734
  EXPECT_NEAR(student_t_upper(-2.0, 10), 1 - 0.036694, 1e-6);
  EXPECT_NEAR(student_t_quantile(0.025, 10), 2.228139, 1e-5);
  EXPECT_NEAR(student_t_quantile(0.025, 1), 12.7062, 1e-3);
  EXPECT_NEAR(student_t_upper(1.959964, 1e7), 0.025, 1e-6);  // the normal limit
  EXPECT_NEAR(student_t_upper(0, 3.5), 0.5, 1e-12);
}

TEST(ChangePoints, ANoiselessStepIsExact) {
  std::vector<ChangePoint> c = find_change_points({1, 1, 1, 1, 2, 2, 2}, {});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].index, 4u);
  EXPECT_DOUBLE_EQ(c[0].change, 1.0);
  EXPECT_DOUBLE_EQ(c[0].low, 1.0);
  EXPECT_EQ(c[0].p_value, 0);
  EXPECT_TRUE(find_change_points({1, 1, 1, 1, 1, 1, 1}, {}).empty());
  EXPECT_TRUE(find_change_points({1, 1, 2, 2}, {}).empty());  // too short for two segments of 3
}

TEST(ChangePoints, FlatSeriesStayQuiet) {
  std::mt19937_64 rng(3);
  int noisy = 0;
  for (int i = 0; i < 300; ++i) noisy += !find_change_points(series(rng, 30, 0.03), {}).empty();
  EXPECT_LE(noisy, 6) << noisy;  // alpha 0.01 per split: about 1% of series
}

TEST(ChangePoints, AFivePercentStepIsFoundAtItsIndex) {
  std::mt19937_64 rng(4);
  int right = 0, near = 0, covered = 0;
  for (int i = 0; i < 200; ++i) {  // noise 1.5% per point (one pinned process here: 1-3%)
    std::vector<ChangePoint> c = find_change_points(series(rng, 30, 0.015, 17, 0.05), {});
    if (c.size() != 1) continue;
    right += c[0].index == 17;
    near += c[0].index >= 16 && c[0].index <= 18;
    covered += c[0].low < 0.05 && c[0].high > 0.05;
  }
  EXPECT_GE(right, 0.85 * 200) << right;  // a noisy point beside the step can pull it by one
  EXPECT_GE(near, 0.97 * 200) << near;
  EXPECT_GE(covered, 0.90 * 200) << covered;  // the 95% interval holds the true step
}

TEST(ChangePoints, TwoStepsAreBothFound) {
  std::mt19937_64 rng(5);
  std::vector<double> x = series(rng, 40, 0.005, 12, 0.10);
  for (size_t i = 28; i < x.size(); ++i) x[i] *= 0.8;
  std::vector<ChangePoint> c = find_change_points(x, {});
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].index, 12u);
  EXPECT_NEAR(c[0].change, 0.10, 0.01);
  EXPECT_EQ(c[1].index, 28u);
  EXPECT_NEAR(c[1].change, -0.20, 0.01);  // measured against the level before it, not the series' start
}

TEST(ChangePoints, TheNewestPointAloneCanStepUp) {
  std::mt19937_64 rng(6);
  std::vector<double> x = series(rng, 20, 0.01);
  ChangePoint step;
  EXPECT_FALSE(newest_point_steps_up(x, 0, {}, &step));
  x.back() *= 1.2;
  ASSERT_TRUE(newest_point_steps_up(x, 0, {}, &step));
  EXPECT_EQ(step.index, 19u);
  EXPECT_NEAR(step.change, 0.2, 0.04);
  x.back() /= 1.44;  // a speed-up is no regression
  EXPECT_FALSE(newest_point_steps_up(x, 0, {}, &step));
}
