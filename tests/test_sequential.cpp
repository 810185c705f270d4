// The sequential gate's statistics on closed forms and on simulations with known answers: the
// signed-rank distribution, the Hodges-Lehmann interval's coverage, the look schedule, and the
// error rates of the whole procedure over every look (the property a naive repeated test lacks).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "diffbench/gate/sequential.h"
#include "../bench/ab_blocks.h"

using namespace diffbench;

namespace {

// Log ratios of one block each: normal noise around log(1 + change), with an occasional
// disturbed block (a 1-in-20 chance of +-15%) as a noisy VM gives.
std::vector<double> blocks(std::mt19937_64& rng, int n, double change, double sd) {
  std::normal_distribution<double> noise(std::log1p(change), sd);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> x;
  for (int i = 0; i < n; ++i) x.push_back(noise(rng) + (u(rng) < 0.05 ? (u(rng) < 0.5 ? 0.15 : -0.15) : 0.0));
  return x;
}

// The whole procedure on one simulated series: look at look_blocks(j) until a verdict, at most
// `max_blocks` blocks. `level`: a fixed per-look level instead of the spending schedule (naive).
SequentialVerdict decide(const std::vector<double>& x, const SequentialSettings& s, double naive_level = 0) {
  for (int j = 1;; ++j) {
    const int n = naive_level > 0 ? s.first_look + j - 1 : look_blocks(j, s.first_look);
    if (n > static_cast<int>(x.size())) return SequentialVerdict::undecided;
    std::vector<double> seen(x.begin(), x.begin() + n);
    SequentialLook look = sequential_look(seen, j, s);
    if (naive_level > 0) {  // the same verdict rule at a fixed level per look
      ShiftInterval i = signed_rank_interval(seen, naive_level);
      if (std::expm1(i.low) > 0 && std::expm1(i.estimate) > s.threshold) return SequentialVerdict::slower;
      continue;
    }
    if (look.verdict != SequentialVerdict::undecided) return look.verdict;
  }
}

double rate(int sims, int n, double change, SequentialVerdict want, const SequentialSettings& s, double naive = 0) {
  std::mt19937_64 rng(12345);
  int hits = 0;
  for (int i = 0; i < sims; ++i) hits += decide(blocks(rng, n, change, 0.03), s, naive) == want;
  return double(hits) / sims;
}

}  // namespace

TEST(Sequential, SignedRankCdfIsExactForThreeFigures) {
  // Subsets of ranks {1,2,3}: sums 0,1,2,3,3,4,5,6, each with probability 1/8.
  std::vector<double> cdf = signed_rank_cdf(3);
  ASSERT_EQ(cdf.size(), 7u);
  const double want[] = {1, 2, 3, 5, 6, 7, 8};
  for (size_t t = 0; t < cdf.size(); ++t) EXPECT_DOUBLE_EQ(cdf[t], want[t] / 8) << t;
}

TEST(Sequential, SignedRankCdfMeetsItsNormalApproximation) {
  std::vector<double> exact = signed_rank_cdf(400), normal = signed_rank_cdf(401);
  EXPECT_NEAR(exact[exact.size() / 2], 0.5, 1e-3);
  EXPECT_NEAR(normal[normal.size() / 2], 0.5, 1e-3);
  EXPECT_NEAR(exact.back(), 1.0, 1e-12);
  EXPECT_NEAR(exact[0], std::ldexp(1.0, -400), 1e-130);
}

TEST(Sequential, IntervalOfIdenticalFiguresHasZeroWidth) {
  // A side compared with itself: every log ratio is 0.
  ShiftInterval i = signed_rank_interval(std::vector<double>(20, 0.0), 0.01);
  EXPECT_EQ(i.estimate, 0);
  EXPECT_EQ(i.low, 0);
  EXPECT_EQ(i.high, 0);
}

TEST(Sequential, IntervalOnKnownFigures) {
  // 1..6: Walsh averages run from 1 to 6, median 3.5. 2^-6 = 0.0156 <= 0.02 < 2/64: k = 1.
  ShiftInterval i = signed_rank_interval({1, 2, 3, 4, 5, 6}, 0.02);
  EXPECT_DOUBLE_EQ(i.estimate, 3.5);
  EXPECT_DOUBLE_EQ(i.low, 1);
  EXPECT_DOUBLE_EQ(i.high, 6);
  ShiftInterval none = signed_rank_interval({1, 2, 3, 4, 5}, 0.02);  // 2^-5 > 0.02: no bound yet
  EXPECT_TRUE(std::isinf(none.low) && std::isinf(none.high));
}

TEST(Sequential, IntervalCoversTheCentreAsOftenAsItSays) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0.3, 1.0);
  int below = 0, above = 0;
  const int sims = 4000;
  for (int s = 0; s < sims; ++s) {
    std::vector<double> x(20);
    for (double& v : x) v = noise(rng);
    ShiftInterval i = signed_rank_interval(x, 0.05);
    below += i.low > 0.3;
    above += i.high < 0.3;
  }
  // Each bound misses with probability at most 0.05 (exactly P(T+ <= k-1) = 0.0487 at n = 20).
  for (int miss : {below, above}) {
    EXPECT_LT(miss, sims * 0.05 + 3 * std::sqrt(sims * 0.05)) << miss;
    EXPECT_GT(miss, sims * 0.03) << miss;  // and it is not needlessly wide
  }
}

TEST(Sequential, LooksGrowAndTheirLevelsSumToAlpha) {
  EXPECT_EQ(look_blocks(1, 6), 6);
  EXPECT_EQ(look_blocks(2, 6), 8);
  EXPECT_EQ(look_blocks(3, 6), 10);
  EXPECT_EQ(look_blocks(4, 6), 13);
  double spent = 0;
  for (int j = 1; j <= 1000; ++j) spent += look_level(0.05, j);
  EXPECT_NEAR(spent, 0.05 * 1000 / 1001, 1e-12);
  EXPECT_EQ(smallest_first_look(0.05), 6);  // 2^-6 = 0.0156 <= 0.025 < 2^-5
}

TEST(Sequential, IdenticalSidesRarelyCallSlowerOverEveryLook) {
  SequentialSettings s;
  s.threshold = 0.0;  // the hardest case: any significant increase would count
  const double false_alarms = rate(1000, 150, 0.0, SequentialVerdict::slower, s);
  EXPECT_LE(false_alarms, s.alpha) << false_alarms;
  // Looking after every block at a fixed 0.05 is the mistake the spending schedule avoids.
  const double naive = rate(300, 100, 0.0, SequentialVerdict::slower, s, 0.05);
  EXPECT_GT(naive, 2 * s.alpha) << naive;
}

TEST(Sequential, DecidesARealSlowdownAndANullChange) {
  SequentialSettings s;
  s.threshold = 0.02;
  EXPECT_GE(rate(500, 150, 0.05, SequentialVerdict::slower, s), 0.95);
  s.threshold = 0.05;
  EXPECT_GE(rate(500, 150, 0.0, SequentialVerdict::not_slower, s), 0.95);
  // A speed-up is never "slower"; it is decided as "faster" or, when the upper bound falls below the
  // threshold before it falls below 0, as "not slower" (both pass the gate).
  EXPECT_EQ(rate(500, 150, -0.10, SequentialVerdict::slower, s), 0.0);
  EXPECT_GE(
      rate(500, 150, -0.10, SequentialVerdict::faster, s) + rate(500, 150, -0.10, SequentialVerdict::not_slower, s),
      0.95);
  // A slowdown exactly at the threshold is never called "not slower" beyond alpha.
  EXPECT_LE(rate(500, 150, 0.05, SequentialVerdict::not_slower, s), s.alpha);
}

namespace {

// ab's blocks on this VM (docs/compare.md): log ratios with an SD of 5%, lag-1 correlation 0.1.
double ab_rate(int sims, int cells, double change, SequentialVerdict want, const SequentialSettings& s) {
  return simulation::any_cell_rate(sims, cells, 120, change, 0.05, 0.1, want, s);
}

}  // namespace

TEST(Sequential, AbsOwnSettingsSplitAlphaOverCellsAndMoveTheFirstLook) {
  const SequentialSettings one = cell_settings(0.02, 1, 0.05);
  EXPECT_DOUBLE_EQ(one.alpha, 0.02);
  EXPECT_EQ(one.first_look, 7);  // 2^-7 <= 0.01 < 2^-6
  EXPECT_DOUBLE_EQ(one.threshold, 0.05);
  const SequentialSettings two = cell_settings(0.02, 2, 0.05);
  EXPECT_DOUBLE_EQ(two.alpha, 0.01);
  EXPECT_EQ(two.first_look, 8);  // 2^-8 <= 0.005 < 2^-7
  EXPECT_EQ(cell_settings(0.05, 1, 0.05).first_look, 6);  // never below 6 blocks
  EXPECT_EQ(cell_settings(0.02, 6, 0.05).first_look, 10);  // 0.02 / 6 / 2 = 0.00167: 2^-10
}

TEST(Sequential, TheFinalLookComesWhenTheBudgetEndsBetweenLooks) {
  // ab's schedule at its first look of 7: 7, 9, 11, 14, ...
  EXPECT_TRUE(look_due(7, 1, 7, false));
  EXPECT_FALSE(look_due(8, 2, 7, false));
  EXPECT_TRUE(look_due(9, 2, 7, false));
  EXPECT_TRUE(look_due(8, 2, 7, true));  // the budget ran out at 8 blocks: a last look there
  EXPECT_FALSE(look_due(6, 1, 7, true));  // before the first look's count: no bound can exist
}

TEST(Sequential, AbsSettingsOnCorrelatedBlocksKeepFalseAlarmsUnderAlpha) {
  // What ab runs (alpha 0.02, first look 7) on blocks like this VM's (SD 5%, lag-1 correlation
  // 0.1), with a 2% threshold: a false "slower" at most alpha; a real 5% slowdown found.
  // bench/ab_simulation prints the same rates over 3,000 series (the figures of docs/compare.md).
  const SequentialSettings s = cell_settings(0.02, 1, 0.02);
  EXPECT_LE(ab_rate(1500, 1, 0.0, SequentialVerdict::slower, s), 0.02);
  EXPECT_GE(ab_rate(300, 1, 0.05, SequentialVerdict::slower, s), 0.97);
}

TEST(Sequential, SplittingAlphaKeepsTheRunsFalseAlarmsUnderAlphaOverSixCells) {
  // Six identical cells at the threshold 0: any cell called slower is a false alarm of the run.
  // With each cell at the whole alpha the run's rate is near six times a cell's; split, it holds.
  const double alpha = 0.05;
  const double split = ab_rate(600, 6, 0.0, SequentialVerdict::slower, cell_settings(alpha, 6, 0.0));
  const double unsplit = ab_rate(600, 6, 0.0, SequentialVerdict::slower, cell_settings(alpha, 1, 0.0));
  EXPECT_LE(split, alpha) << split;
  EXPECT_GT(unsplit, split) << unsplit;
}
