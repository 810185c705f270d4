// "Same seed, same latents": LibTorch's CPU generator reproduces PyTorch's stream, and each
// sampler draws noise exactly where diffusers does (shared/REFERENCE.md, "Which steps draw noise").
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "diffbench/schedule/sampler.h"
#include "diffbench/samplers/registry.h"
#include "gaussian.h"

using namespace diffbench;

TEST(Generator, MatchesPyTorchManualSeedStream) {
  // torch.Generator().manual_seed(42); torch.randn([1,4,2,2]) twice, then torch.randn([2,3]) (PyTorch 1.13)
  const std::vector<float> first = {1.92691529f,  1.48728406f,  0.90071720f,  -2.10552096f, 0.67841846f,  -1.23454487f,
                                    -0.04306748f, -1.60466695f, -0.75213528f, 1.64872301f,  -0.39247864f, -1.40360713f,
                                    -0.72788131f, -0.55943018f, -0.76883888f, 0.76244539f};
  const std::vector<float> second = {1.64231694f,  -0.15959747f, -0.49739754f, 0.43958926f, -0.75813115f, 1.07831764f,
                                     0.80080056f,  1.68062055f,  1.27912438f,  1.29642284f, 0.61046648f,  1.33473778f,
                                     -0.23162432f, 0.04175949f,  -0.25157529f, 0.85985851f};
  const std::vector<float> third = {1.32213509f, 0.81718975f, -0.76583862f, -0.75062233f, 1.35254776f, 0.68632191f};
  at::Generator g = at::make_generator<at::CPUGeneratorImpl>(42);
  for (const auto* want : {&first, &second}) {
    at::Tensor x = at::randn({1, 4, 2, 2}, g);
    for (size_t i = 0; i < want->size(); ++i) EXPECT_NEAR(x.flatten()[i].item<float>(), (*want)[i], 1e-6);
  }
  at::Tensor x = at::randn({2, 3}, g);
  for (size_t i = 0; i < third.size(); ++i) EXPECT_NEAR(x.flatten()[i].item<float>(), third[i], 1e-6);
}

namespace {

// How many full-shape draws a sampler makes after the initial latents: run it, draw once more,
// and find which fresh-stream draw that equals.
int draws_after_initial(const std::string& name, int steps, double eta = 0) {
  const std::vector<int64_t> shape = {1, 4, 4, 4};
  SchedulerConfig config;
  NoiseSchedule schedule(config);
  const SamplerInfo& s = find_sampler(name);
  Plan plan = s.plan(schedule, config, steps);
  diffbench::testing::Gaussian g;
  ModelFn model = g.model(schedule, PredictionType::epsilon, nullptr);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(5);
  at::Tensor x = at::randn(shape, gen) * float(plan.init_noise_sigma);
  std::vector<at::Tensor> ts = timestep_tensors(plan, c10::Device(c10::kCPU));
  SampleArgs args{schedule, config, plan, model, gen, eta, ts, nullptr};
  s.sample(args, x);
  at::Tensor next = at::randn(shape, gen);
  at::Generator fresh = at::make_generator<at::CPUGeneratorImpl>(5);
  for (int k = 0; k <= 2 * steps + 2; ++k) {
    if (at::equal(at::randn(shape, fresh), next)) return k - 1;  // k - 1 draws between initial and `next`
  }
  return -1000;
}

}  // namespace

TEST(Generator, EachSamplerDrawsWhereDiffusersDoes) {
  for (int steps : {1, 4, 10}) {
    EXPECT_EQ(draws_after_initial("ddpm", steps), steps) << steps;  // every t > 0; leading ends at t = 1
    EXPECT_EQ(draws_after_initial("ddim", steps), 0) << steps;  // eta 0
    EXPECT_EQ(draws_after_initial("ddim", steps, 0.5), steps) << steps;  // eta > 0: every step, the last included
    EXPECT_EQ(draws_after_initial("dpmpp_2m", steps), 0) << steps;
    EXPECT_EQ(draws_after_initial("euler", steps), 0) << steps;
    EXPECT_EQ(draws_after_initial("euler_a", steps), steps) << steps;  // the last included (times sigma_up = 0)
    EXPECT_EQ(draws_after_initial("turbo", steps), steps) << steps;
    EXPECT_EQ(draws_after_initial("lcm", steps), steps - 1) << steps;  // all but the last
  }
}
