// resolve(): the one place every setting of a run is settled: the request's value, else the
// model's manifest, else the sampler's default; and every check against the model made there.
#include <gtest/gtest.h>

#include <memory>

#include <ATen/ATen.h>

#include "diffbench/core/errors.h"
#include "diffbench/measure/runner.h"
#include "diffbench/measure/session.h"
#include "diffbench/measure/resolve.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/samplers/registry.h"
#include "fake_model.h"
#include "measure/guided_model.h"

namespace diffbench {
namespace {

using testing::FakeModel;

Session session_of(int arity, ModelManifest manifest = {}) {
  Session s;
  auto fake = std::make_unique<FakeModel>(arity);
  fake->set_sample_shape({1, 4, 8, 8});
  s.unet = std::move(fake);
  s.manifest = std::move(manifest);
  if (arity == 3) s.cond = at::zeros({1, 1, 8});
  return s;
}

SpecRequest request_for(const std::string& sampler) {
  SpecRequest r;
  r.sampler = sampler;
  return r;
}

std::string resolve_error(const Session& s, const SpecRequest& r) {
  try {
    resolve(s, r);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(Resolution, StepsAreTheRequestsElseTheManifestsForItsOwnSamplerElseTheSamplers) {
  ModelManifest m;
  m.sampler = "lcm";
  m.steps = 4;
  const Session s = session_of(2, m);
  const Resolution own = resolve(s, request_for("lcm"));
  EXPECT_EQ(own.spec.steps, 4);
  ASSERT_EQ(own.from_manifest.size(), 1u);
  EXPECT_EQ(own.from_manifest[0], "4 steps for lcm");
  EXPECT_EQ(resolve(s, request_for("ddim")).spec.steps, find_sampler("ddim").default_steps);  // not its sampler
  SpecRequest asked = request_for("lcm");
  asked.steps = 2;
  const Resolution given = resolve(s, asked);
  EXPECT_EQ(given.spec.steps, 2);
  EXPECT_TRUE(given.from_manifest.empty());
}

TEST(Resolution, GuidanceIsTheRequestsElseTheManifestsElseTheSamplersOnConditionalModels) {
  EXPECT_EQ(*resolve(session_of(3), request_for("ddim")).spec.guidance, find_sampler("ddim").default_guidance);
  EXPECT_EQ(*resolve(session_of(2), request_for("ddim")).spec.guidance, 0.0);  // unconditional: no CFG
  ModelManifest m;
  m.guidance_scale = 1.0;
  const Session s = session_of(3, m);
  const Resolution from_model = resolve(s, request_for("ddim"));
  EXPECT_EQ(*from_model.spec.guidance, 1.0);
  EXPECT_EQ(from_model.from_manifest, std::vector<std::string>{"guidance_scale=1"});  // said where it is decided
  SpecRequest asked = request_for("ddim");
  asked.guidance = 4.5;
  const Resolution given = resolve(s, asked);
  const RunSpec& spec = given.spec;
  EXPECT_EQ(*spec.guidance, 4.5);
  EXPECT_TRUE(given.from_manifest.empty());
  EXPECT_TRUE(uses_guidance(s, spec));
  asked.guidance = 2.0;
  EXPECT_NE(resolve_error(session_of(2), asked).find("needs a conditional UNet"), std::string::npos);
}

TEST(Resolution, TheSchedulerConfigIsTheManifestsWithTheRequestsKeysOnTopOrTheRequestsFile) {
  ModelManifest m;
  SchedulerConfig own;
  own.beta_end = 0.02;
  own.timestep_spacing = TimestepSpacing::trailing;
  m.scheduler_config = own;
  m.scheduler_config_source = "model.json";
  const Session s = session_of(2, m);
  SpecRequest r = request_for("ddim");
  r.scheduler.steps_offset = 0;
  const Resolution on_top = resolve(s, r);
  EXPECT_EQ(on_top.spec.config.beta_end, 0.02);
  EXPECT_EQ(on_top.spec.config.timestep_spacing, TimestepSpacing::trailing);
  EXPECT_EQ(on_top.spec.config.steps_offset, 0);
  EXPECT_TRUE(on_top.spec.config.is_explicit("steps_offset"));
  EXPECT_EQ(on_top.from_manifest, std::vector<std::string>{"scheduler config model.json"});
  r.scheduler.file = SchedulerConfig{};  // a config file of the user's replaces the model's
  r.scheduler.file_path = "mine.json";
  const Resolution replaced = resolve(s, r);
  EXPECT_EQ(replaced.spec.config.beta_end, SchedulerConfig{}.beta_end);
  EXPECT_TRUE(replaced.from_manifest.empty());
}

TEST(Resolution, AConfigThatContradictsTheModelIsRefusedNamingTheSetting) {
  ModelManifest m;
  m.prediction_type = PredictionType::v_prediction;
  SchedulerConfig own;
  own.prediction_type = PredictionType::v_prediction;
  m.scheduler_config = own;
  const Session s = session_of(2, m);
  EXPECT_EQ(resolve(s, request_for("ddim")).spec.config.prediction_type, PredictionType::v_prediction);
  SpecRequest r = request_for("ddim");
  r.scheduler.prediction_type = PredictionType::epsilon;
  EXPECT_NE(resolve_error(s, r).find(
                "predicts v_prediction (its manifest), but prediction_type says prediction_type epsilon"),
            std::string::npos)
      << resolve_error(s, r);
  SpecRequest longer = request_for("ddim");
  longer.scheduler.num_train_timesteps = 500;
  longer.scheduler.prediction_type = PredictionType::v_prediction;
  EXPECT_NE(resolve_error(s, longer).find("trained on 1000 timesteps"), std::string::npos) << resolve_error(s, longer);
}

TEST(Resolution, TheShapeIsTheRequestsElseTheModelsAndABatchReplacesB) {
  const Session s = session_of(2);
  EXPECT_EQ(resolve(s, request_for("ddim")).spec.shape, (std::vector<int64_t>{1, 4, 8, 8}));
  SpecRequest r = request_for("ddim");
  r.batch = 3;
  EXPECT_EQ(resolve(s, r).spec.shape, (std::vector<int64_t>{3, 4, 8, 8}));
  r.shape = std::vector<int64_t>{2, 4, 16, 16};
  EXPECT_EQ(resolve(s, r).spec.shape, (std::vector<int64_t>{3, 4, 16, 16}));
  r.shape = std::vector<int64_t>{2, 3, 16, 16};  // the model takes 4 channels
  EXPECT_NE(resolve_error(s, r).find("takes latents with 4 channels"), std::string::npos) << resolve_error(s, r);
}

TEST(Resolution, ImpossibleNumbersAreRefusedByTheirFieldNames) {
  const Session s = session_of(2);
  SpecRequest r = request_for("ddim");
  r.steps = 0;
  EXPECT_EQ(resolve_error(s, r), "steps must be at least 1, got 0");
  r = request_for("ddim");
  r.eta = 1.5;
  EXPECT_EQ(resolve_error(s, r), "eta must be between 0 and 1, got 1.5");
  r = request_for("ddim");
  r.repeat = 0;
  EXPECT_EQ(resolve_error(s, r), "repeat must be at least 1, got 0");
}

}  // namespace
}  // namespace diffbench

namespace diffbench {
namespace {

// Conditioning rows cycle over any batch: sample i takes row i mod N (the README's
// `sweep --batch 1,4` on the ten digit classes), and N dividing the batch repeats the rows whole.
TEST(Resolution, ConditioningRowsCycleOverAnyBatch) {
  Session s = session_of(3);
  s.cond = at::arange(3, at::kFloat).reshape({3, 1, 1}).expand({3, 1, 8}).contiguous();
  SpecRequest r = request_for("ddim");
  r.batch = 4;
  EXPECT_EQ(resolve(s, r).spec.shape[0], 4);  // no error for 3 rows and a batch of 4
  const at::Tensor four = conditioning_context(s, 4, false);
  EXPECT_TRUE(four.select(2, 0).flatten().equal(at::tensor({0.f, 1.f, 2.f, 0.f})));
  EXPECT_TRUE(conditioning_context(s, 6, false).select(2, 0).flatten().equal(at::tensor({0.f, 1.f, 2.f, 0.f, 1.f, 2.f})));
  EXPECT_TRUE(conditioning_context(s, 1, false).select(2, 0).flatten().equal(at::tensor({0.f})));
}

}  // namespace
}  // namespace diffbench
