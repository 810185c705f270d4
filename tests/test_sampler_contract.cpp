// Contract tests instantiated over every registered sampler: a new sampler is tested here
// without editing this file.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <optional>

#include "diffbench/schedule/sampler.h"
#include "diffbench/samplers/registry.h"
#include "gaussian.h"

using namespace diffbench;

namespace {

struct Outcome {
  at::Tensor x;
  int calls = 0;
  std::vector<int> steps_seen;
};

// The config a sampler's models come with: a flow sampler's predict the flow velocity.
SchedulerConfig native_config(const SamplerInfo& sampler) {
  SchedulerConfig config;
  if (sampler.flow) config.prediction_type = PredictionType::flow_prediction;
  return config;
}

Outcome sample(const SamplerInfo& sampler, int steps, uint64_t seed, std::optional<SchedulerConfig> given = {},
               double eta = 0) {
  const SchedulerConfig config = given.value_or(native_config(sampler));
  NoiseSchedule schedule(config);
  Plan plan = sampler.plan(schedule, config, steps);
  Outcome out;
  diffbench::testing::Gaussian g;
  ModelFn model = plan.flow_matching ? g.model_for_plan(plan, config.prediction_type, &out.calls)
                                     : g.model(schedule, config.prediction_type, &out.calls);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor x = at::randn({2, 4, 8, 8}, gen) * static_cast<float>(plan.init_noise_sigma);
  std::vector<at::Tensor> ts = timestep_tensors(plan, c10::Device(c10::kCPU));
  SampleArgs args{schedule, config, plan, model,
                  gen,      eta,    ts,   [&](int i, const at::Tensor&) { out.steps_seen.push_back(i); }};
  out.x = sampler.sample(args, x);
  return out;
}

class SamplerContract : public ::testing::TestWithParam<std::string> {};

std::vector<std::string> sampler_names() {
  std::vector<std::string> names;
  for (const SamplerInfo* s : all_samplers()) names.push_back(s->name);
  return names;
}

TEST_P(SamplerContract, ShapeFinitenessAndTheModelCallsItDeclares) {
  const SamplerInfo& s = find_sampler(GetParam());
  for (int steps : {1, 2, 4, s.default_steps}) {
    Outcome o = sample(s, steps, 7);
    EXPECT_EQ(o.x.sizes(), (std::vector<int64_t>{2, 4, 8, 8})) << steps;
    EXPECT_TRUE(o.x.isfinite().all().item<bool>()) << steps;
    EXPECT_EQ(o.calls, model_evaluations(s, steps)) << steps;  // one a step, Heun's 2 x steps - 1
    ASSERT_EQ(static_cast<int>(o.steps_seen.size()), steps);
    for (int i = 0; i < steps; ++i) EXPECT_EQ(o.steps_seen[i], i);
  }
}

TEST_P(SamplerContract, SameSeedSameResult) {
  const SamplerInfo& s = find_sampler(GetParam());
  EXPECT_TRUE(at::equal(sample(s, 4, 11).x, sample(s, 4, 11).x));
}

TEST_P(SamplerContract, OtherSeedOtherResultWhenStochastic) {
  const SamplerInfo& s = find_sampler(GetParam());
  // Same initial latents (seed 11) for both; only a stochastic sampler's later draws could differ.
  // So compare two seeds: any sampler differs through the initial latents...
  EXPECT_FALSE(at::equal(sample(s, 4, 11).x, sample(s, 4, 12).x));
  // ...and a stochastic one also differs when only its in-loop noise changes.
  if (s.stochastic && s.name != "turbo") {  // turbo at 1 step multiplies its draw by sigma_up = 0
    NoiseSchedule schedule{SchedulerConfig{}};
    SchedulerConfig config;
    Plan plan = s.plan(schedule, config, 4);
    diffbench::testing::Gaussian g;
    ModelFn model = g.model(schedule, PredictionType::epsilon, nullptr);
    at::Tensor x = at::randn({2, 4, 8, 8}, at::make_generator<at::CPUGeneratorImpl>(1)) * float(plan.init_noise_sigma);
    std::vector<at::Tensor> ts = timestep_tensors(plan, c10::Device(c10::kCPU));
    SampleArgs a1{schedule, config, plan, model, at::make_generator<at::CPUGeneratorImpl>(100), 0.0, ts, nullptr};
    SampleArgs a2{schedule, config, plan, model, at::make_generator<at::CPUGeneratorImpl>(200), 0.0, ts, nullptr};
    EXPECT_FALSE(at::equal(s.sample(a1, x.clone()), s.sample(a2, x.clone())));
  }
}

TEST_P(SamplerContract, EveryPredictionTypeGivesTheSameSamples) {
  const SamplerInfo& s = find_sampler(GetParam());
  const std::vector<PredictionType> types =
      s.flow ? std::vector<PredictionType>{PredictionType::sample}
             : std::vector<PredictionType>{PredictionType::v_prediction, PredictionType::sample};
  for (PredictionType type : types) {
    SchedulerConfig c;
    c.prediction_type = type;
    EXPECT_TRUE(at::allclose(sample(s, 8, 3).x, sample(s, 8, 3, c).x, 1e-4, 1e-4)) << name_of(type);
  }
}

TEST_P(SamplerContract, PlanIsConsistent) {
  const SamplerInfo& s = find_sampler(GetParam());
  NoiseSchedule schedule{SchedulerConfig{}};
  Plan plan = s.plan(schedule, native_config(s), s.default_steps);
  EXPECT_EQ(plan.steps(), s.default_steps);
  EXPECT_EQ(plan.flow_matching, s.flow);
  EXPECT_EQ(plan.sigmas.size(), plan.timesteps.size() + 1);
  EXPECT_EQ(plan.alphas_cumprod.size(), plan.timesteps.size());
  EXPECT_GE(plan.init_noise_sigma, 1.0);
  for (double t : plan.timesteps) {
    EXPECT_GE(t, 0);
    EXPECT_LE(t, s.flow ? 1000 : 999);  // flow timesteps are sigma x 1000, from sigma 1
  }
  EXPECT_FALSE(s.description.empty());
  EXPECT_FALSE(s.paper.empty());
}

INSTANTIATE_TEST_SUITE_P(Every, SamplerContract, ::testing::ValuesIn(sampler_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
