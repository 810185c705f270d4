// Golden timesteps, sigmas and init_noise_sigma from shared/REFERENCE.md (diffusers 0.40, SD 1.5 config).
#include <gtest/gtest.h>

#include "diffbench/core/errors.h"
#include "diffbench/schedule/sampler.h"
#include "diffbench/samplers/registry.h"
#include "diffbench/schedule/schedule.h"

using namespace diffbench;

namespace {

Plan plan_for(const std::string& sampler, int steps, SchedulerConfig config = {}) {
  NoiseSchedule schedule(config);
  return find_sampler(sampler).plan(schedule, config, steps);
}

std::vector<double> every(double from, double step, int count) {
  std::vector<double> v;
  for (int i = 0; i < count; ++i) v.push_back(from + i * step);
  return v;
}

void expect_near_all(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at index " << i;
}

}  // namespace

TEST(Schedule, Sd15AlphasCumprodEnds) {
  NoiseSchedule s(SchedulerConfig{});
  ASSERT_EQ(s.size(), 1000);
  EXPECT_NEAR(s.betas().front(), 0.00085, 1e-9);
  EXPECT_NEAR(s.betas().back(), 0.012, 1e-8);
  EXPECT_NEAR(s.sigmas().back(), 14.6146, 1e-4);
  EXPECT_NEAR(s.sigmas().front(), 0.0292, 1e-4);
}

TEST(Schedule, FourStepTimestepsPerSampler) {
  for (const char* name : {"ddpm", "ddim", "euler", "euler_a"}) {
    EXPECT_EQ(plan_for(name, 4).timesteps, (std::vector<double>{751, 501, 251, 1})) << name;
  }
  EXPECT_EQ(plan_for("dpmpp_2m", 4).timesteps, (std::vector<double>{801, 601, 401, 201}));
  EXPECT_EQ(plan_for("lcm", 4).timesteps, (std::vector<double>{999, 759, 499, 259}));
  EXPECT_EQ(plan_for("turbo", 4).timesteps, (std::vector<double>{999, 749, 499, 249}));
  SchedulerConfig karras;
  karras.use_karras_sigmas = true;
  EXPECT_EQ(plan_for("dpmpp_2m", 4, karras).timesteps, (std::vector<double>{999, 687, 146, 0}));
}

TEST(Schedule, TwentyStepTimestepsPerSampler) {
  std::vector<double> leading = every(951, -50, 20);
  for (const char* name : {"ddpm", "ddim", "euler", "euler_a"})
    EXPECT_EQ(plan_for(name, 20).timesteps, leading) << name;
  EXPECT_EQ(plan_for("dpmpp_2m", 20).timesteps, every(941, -47, 20));
  EXPECT_EQ(plan_for("turbo", 20).timesteps, every(999, -50, 20));
  std::vector<double> lcm = {999, 959, 899, 859, 799, 759, 699, 659, 599, 559,
                             499, 459, 399, 359, 299, 259, 199, 159, 99,  59};
  EXPECT_EQ(plan_for("lcm", 20).timesteps, lcm);
  SchedulerConfig karras;
  karras.use_karras_sigmas = true;
  std::vector<double> k = {999, 962, 921, 876, 827, 772, 710, 640, 561, 474, 380, 285, 197, 123, 69, 35, 15, 6, 2, 0};
  EXPECT_EQ(plan_for("dpmpp_2m", 20, karras).timesteps, k);
}

TEST(Schedule, InitNoiseSigma) {
  EXPECT_DOUBLE_EQ(plan_for("ddim", 4).init_noise_sigma, 1.0);
  EXPECT_DOUBLE_EQ(plan_for("ddpm", 20).init_noise_sigma, 1.0);
  EXPECT_DOUBLE_EQ(plan_for("dpmpp_2m", 20).init_noise_sigma, 1.0);
  EXPECT_DOUBLE_EQ(plan_for("lcm", 4).init_noise_sigma, 1.0);
  EXPECT_NEAR(plan_for("euler", 4).init_noise_sigma, 4.2364, 1e-4);
  EXPECT_NEAR(plan_for("euler_a", 20).init_noise_sigma, 11.0736, 1e-4);
  for (int steps : {1, 4, 20, 50}) EXPECT_NEAR(plan_for("turbo", steps).init_noise_sigma, 14.6146, 1e-4) << steps;
}

TEST(Schedule, FourStepSigmas) {
  expect_near_all(plan_for("euler", 4).sigmas, {4.1167, 1.6237, 0.6984, 0.0413, 0}, 1e-4);
  expect_near_all(plan_for("turbo", 4).sigmas, {14.6146, 4.0817, 1.6129, 0.6932, 0}, 1e-4);
  expect_near_all(plan_for("dpmpp_2m", 4).sigmas, {5.1344, 2.2929, 1.1682, 0.5741, 0}, 1e-4);
  SchedulerConfig karras;
  karras.use_karras_sigmas = true;
  expect_near_all(plan_for("dpmpp_2m", 4, karras).sigmas, {14.6146, 3.1686, 0.4469, 0.0292, 0}, 1e-4);
}

TEST(Schedule, LeadingWhenStepsDoNotDivide) {
  EXPECT_EQ(plan_for("ddim", 30).timesteps.front(), 958);
  EXPECT_EQ(plan_for("ddim", 400).timesteps.front(), 799);
  EXPECT_EQ(plan_for("ddim", 1).timesteps, (std::vector<double>{1}));
}

TEST(Schedule, ThousandLeadingStepsUseTheFullGridAndSaySo) {
  Plan plan = plan_for("ddpm", 1000);
  EXPECT_EQ(plan.timesteps.front(), 999);
  EXPECT_EQ(plan.timesteps.back(), 0);
  ASSERT_EQ(plan.notes.size(), 1u);
  EXPECT_NE(plan.notes[0].find("IndexError"), std::string::npos);
}

TEST(Schedule, TrailingRoundsHalfToEven) {
  SchedulerConfig c;
  c.timestep_spacing = TimestepSpacing::trailing;
  Plan plan = plan_for("ddim", 16, c);
  EXPECT_NE(std::find(plan.timesteps.begin(), plan.timesteps.end(), 811), plan.timesteps.end());
  EXPECT_DOUBLE_EQ(round_half_even(2.5), 2);
  EXPECT_DOUBLE_EQ(round_half_even(3.5), 4);
}

TEST(Schedule, TrailingKeepsStepCountWhereNumpyAddsAPoint) {
  SchedulerConfig c;
  c.timestep_spacing = TimestepSpacing::trailing;
  for (int steps : {61, 103, 121}) {
    Plan plan = plan_for("ddim", steps, c);
    EXPECT_EQ(plan.steps(), steps);
    EXPECT_GE(plan.timesteps.back(), 0);
  }
}

TEST(Schedule, LinspaceIsFractionalForEulerAndRoundedForDdim) {
  SchedulerConfig c;
  c.timestep_spacing = TimestepSpacing::linspace;
  Plan euler = plan_for("euler", 4, c), ddim = plan_for("ddim", 4, c);
  EXPECT_NEAR(euler.timesteps[1], 666.0, 1e-3);  // 999 * 2/3
  EXPECT_FALSE(euler.integer_timesteps);
  EXPECT_EQ(ddim.timesteps, (std::vector<double>{999, 666, 333, 0}));
  EXPECT_NEAR(euler.init_noise_sigma, euler.sigmas[0], 1e-6);  // linspace: max sigma, no sqrt(s^2+1)
}

TEST(Schedule, BetaSchedules) {
  SchedulerConfig linear;
  linear.beta_schedule = BetaSchedule::linear;
  linear.beta_start = 0.0001;
  linear.beta_end = 0.02;
  NoiseSchedule l(linear);
  EXPECT_NEAR(l.betas()[500], 0.0001 + (0.02 - 0.0001) * 500 / 999, 1e-7);
  SchedulerConfig cosine;
  cosine.beta_schedule = BetaSchedule::squaredcos_cap_v2;
  NoiseSchedule c(cosine);
  EXPECT_NEAR(c.betas().back(), 0.999, 1e-6);  // capped
  EXPECT_GT(c.alphas_cumprod()[0], 0.999);
  SchedulerConfig zero_snr;
  zero_snr.rescale_betas_zero_snr = true;
  NoiseSchedule z(zero_snr);
  EXPECT_NEAR(z.alphas_cumprod().back(), 0.0, 1e-7);
  EXPECT_NEAR(z.alphas_cumprod().front(), NoiseSchedule(SchedulerConfig{}).alphas_cumprod().front(), 1e-6);
  EXPECT_TRUE(std::isfinite(z.sigmas().back()));  // 2^-24 stands in for the zero
}

TEST(Schedule, TrainedBetas) {
  SchedulerConfig c;
  c.trained_betas = std::vector<double>(100, 0.01);
  NoiseSchedule s(c);
  ASSERT_EQ(s.size(), 100);
  EXPECT_NEAR(s.alphas_cumprod()[1], 0.99 * 0.99, 1e-6);
  EXPECT_EQ(find_sampler("ddim").plan(s, c, 10).timesteps.front(), 91);
}

TEST(Schedule, StepCountsOutsideTheScheduleAreUsageErrors) {
  for (const SamplerInfo* s : all_samplers()) {
    EXPECT_THROW(plan_for(s->name, 0), UsageError) << s->name;
    EXPECT_THROW(plan_for(s->name, 1001), UsageError) << s->name;
  }
  EXPECT_THROW(plan_for("lcm", 51), UsageError);  // more than original_inference_steps
  EXPECT_NO_THROW(plan_for("lcm", 50));
}

TEST(Schedule, KarrasSigmasHitTheirEnds) {
  std::vector<double> k = karras_sigmas(0.03, 14.6, 10);
  EXPECT_DOUBLE_EQ(k.front(), 14.6);
  EXPECT_NEAR(k.back(), 0.03, 1e-12);
  EXPECT_TRUE(std::is_sorted(k.rbegin(), k.rend()));
}

// #41: the samplers only the fidelity matrix pinned, pinned here too, at 10 steps on SD 1.5's
// config: diffusers 0.42.1's timesteps and sigmas (its Heun lists each middle timestep twice, once
// per stage; diffbench's plan holds each step once, and the final sigma: DEIS keeps the last
// training sigma where the DPM-Solver family ends at 0).
TEST(Schedule, TenStepGridsOfTheMultistepHeunAndAncestralSamplers) {
  const std::vector<double> multistep = every(901, -90, 10);
  const std::vector<double> multistep_sigmas = {8.3907, 5.3763, 3.6307, 2.5577, 1.8586,
                                                1.3762, 1.0239, 0.7515, 0.5270, 0.3235};
  for (const char* name : {"unipc", "deis", "dpmpp_2m_sde", "dpmpp_3m_sde"}) {
    const Plan plan = plan_for(name, 10);
    EXPECT_EQ(plan.timesteps, multistep) << name;
    std::vector<double> sigmas = multistep_sigmas;
    sigmas.push_back(std::string(name) == "deis" ? 0.0292 : 0.0);
    expect_near_all(plan.sigmas, sigmas, 1e-4);
  }
  const std::vector<double> euler_sigmas = {8.3907, 5.1344, 3.3478, 2.2929, 1.6237,
                                            1.1682, 0.8357, 0.5741, 0.3462, 0.0413, 0.0};
  for (const char* name : {"heun", "euler_a"}) {
    const Plan plan = plan_for(name, 10);
    EXPECT_EQ(plan.timesteps, every(901, -100, 10)) << name;
    expect_near_all(plan.sigmas, euler_sigmas, 1e-4);
  }
}
