// Flow matching: the sigma grid against diffusers' own tables (FlowMatchEulerDiscreteScheduler at
// the same settings, values printed by diffusers 0.40), the dynamic shift's mu, the configs that
// name a flow model, the refusals, and real runs of the binary on a flow model.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "diffbench/core/errors.h"
#include "diffbench/schedule/flow.h"
#include "diffbench/schedule/sampler.h"
#include "diffbench/samplers/registry.h"
#include "diffbench/schedule/schedule.h"

using namespace diffbench;
using diffbench::testing::run_cli;
using diffbench::testing::scratch_dir;
using diffbench::testing::slurp;

namespace {

SchedulerConfig flow_config() {
  SchedulerConfig c;
  c.prediction_type = PredictionType::flow_prediction;
  return c;
}

void expect_sigmas(const std::vector<float>& got, const std::vector<float>& diffusers) {
  ASSERT_EQ(got.size(), diffusers.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], diffusers[i]) << "step " << i;  // bit for bit
}

}  // namespace

TEST(FlowSchedule, SigmasEqualDiffusersBitForBit) {
  SchedulerConfig sd3 = flow_config();
  sd3.shift = 3.0;  // its constructor's sigma_min is shifted, then set_timesteps shifts again
  expect_sigmas(flow_sigmas(sd3, 4), {1.0f, 0.857692301273346f, 0.602150559425354f, 0.008928571827709675f});
  SchedulerConfig flux = flow_config();
  flux.use_dynamic_shifting = true;
  flux.mu = 0.8;
  flux.flow_sigmas = FlowSigmas::linspace;  // the pipeline's linspace(1, 1/n, n), shifted in float32
  expect_sigmas(flow_sigmas(flux, 4), {1.0f, 0.8697344064712524f, 0.6899744868278503f, 0.4258967339992523f});
  SchedulerConfig linear = flow_config();
  linear.use_dynamic_shifting = true;
  linear.time_shift_type = TimeShiftType::linear;
  linear.mu = 1.5;
  expect_sigmas(flow_sigmas(linear, 3), {1.0f, 0.6004799008369446f, 0.0014992504147812724f});
  SchedulerConfig terminal = flow_config();
  terminal.shift = 3.0;
  terminal.shift_terminal = 0.1;
  expect_sigmas(flow_sigmas(terminal, 3), {1.0f, 0.773991048336029f, 0.10000000149011612f});
}

TEST(FlowSchedule, PlanTimestepsAreSigmaTimesTheTrainingLengthAsFloats) {
  SchedulerConfig c = flow_config();
  c.shift = 3.0;
  const Plan plan = plan_for(find_sampler("flow_euler"), NoiseSchedule(c), c, 4);
  EXPECT_TRUE(plan.flow_matching);
  EXPECT_FALSE(plan.integer_timesteps);  // never rounded: the model gets 857.6923 (diffusers' value)
  EXPECT_EQ(static_cast<float>(plan.timesteps[1]), 857.6923217773438f);
  EXPECT_EQ(plan.sigmas.back(), 0.0);
  EXPECT_EQ(plan.alphas_cumprod.front(), 0.0);  // sigma 1: no signal
  const Plan heun = plan_for(find_sampler("flow_heun"), NoiseSchedule(c), c, 4);
  EXPECT_EQ(model_evaluations(find_sampler("flow_heun"), 4), 7);
  EXPECT_EQ(heun.sigmas, plan.sigmas);  // the same static grid
}

TEST(FlowSchedule, MuIsTheLineThroughTheBaseAndMaxShifts) {
  const SchedulerConfig c = flow_config();  // base 0.5 at 256 tokens, max 1.15 at 4096
  EXPECT_DOUBLE_EQ(flow_mu(c, 256), 0.5);
  EXPECT_DOUBLE_EQ(flow_mu(c, 4096), 1.15);
  EXPECT_NEAR(flow_mu(c, 1024), 0.5 + 0.65 * 768.0 / 3840.0, 1e-12);
  EXPECT_EQ(image_seq_len(128, 128, 2), 4096);  // Flux at 1024x1024: 128x128 latents, 2x2 packing
  EXPECT_EQ(image_seq_len(9, 9, 2), 16);  // rounded down, as the pipelines' // does
}

TEST(FlowSchedule, OptionsDiffbenchDoesNotRunAreRefused) {
  for (auto set : std::vector<void (*)(SchedulerConfig&)>{
           [](SchedulerConfig& c) { c.use_beta_sigmas = true; }, [](SchedulerConfig& c) { c.invert_sigmas = true; },
           [](SchedulerConfig& c) { c.stochastic_sampling = true; },
           [](SchedulerConfig& c) { c.use_dynamic_shifting = true; },  // without mu
           [](SchedulerConfig& c) { c.use_karras_sigmas = c.use_exponential_sigmas = true; }}) {
    SchedulerConfig c = flow_config();
    set(c);
    EXPECT_THROW(flow_sigmas(c, 4), UsageError);
  }
}

TEST(FlowConfig, AFlowMatchConfigNamesAFlowModel) {
  std::vector<std::string> warnings;
  for (const char* name : {"sd3", "flux"}) {
    SchedulerConfig c =
        load_scheduler_config(std::string(DIFFBENCH_SOURCE_DIR "/configs/") + name + ".json", &warnings);
    EXPECT_EQ(c.prediction_type, PredictionType::flow_prediction) << name;
    EXPECT_EQ(c.shift, 3.0) << name;
  }
  EXPECT_TRUE(warnings.empty()) << warnings.front();
  SchedulerConfig flux = load_scheduler_config(DIFFBENCH_SOURCE_DIR "/configs/flux.json", nullptr);
  EXPECT_TRUE(flux.use_dynamic_shifting);
  EXPECT_EQ(flux.max_image_seq_len, 4096);
  // A FlowMatch class with an explicit prediction type keeps it; other classes stay epsilon.
  EXPECT_EQ(parse_scheduler_config(R"({"_class_name": "FlowMatchEulerDiscreteScheduler", "prediction_type": "sample"})",
                                   "t", nullptr)
                .prediction_type,
            PredictionType::sample);
  EXPECT_EQ(parse_scheduler_config(R"({"_class_name": "EulerDiscreteScheduler"})", "t", nullptr).prediction_type,
            PredictionType::epsilon);
  EXPECT_THROW(parse_scheduler_config(R"({"shift": 0})", "t", nullptr), UsageError);
  EXPECT_THROW(parse_scheduler_config(R"({"time_shift_type": "cubic"})", "t", nullptr), UsageError);
}

TEST(FlowDialect, EachSamplerReadsOnlyTheModelsItsPathFits) {
  SchedulerConfig flow = flow_config(), eps;
  EXPECT_THROW(plan_for(find_sampler("ddim"), NoiseSchedule(flow), flow, 4), UsageError);
  EXPECT_THROW(plan_for(find_sampler("flow_euler"), NoiseSchedule(eps), eps, 4), UsageError);
  SchedulerConfig v;
  v.prediction_type = PredictionType::v_prediction;
  EXPECT_THROW(plan_for(find_sampler("flow_heun"), NoiseSchedule(v), v, 4), UsageError);
  SchedulerConfig x0;  // an x0 model reads on either path
  x0.prediction_type = PredictionType::sample;
  EXPECT_NO_THROW(plan_for(find_sampler("flow_euler"), NoiseSchedule(x0), x0, 4));
  EXPECT_NO_THROW(plan_for(find_sampler("ddim"), NoiseSchedule(x0), x0, 4));
}

TEST(FlowDialect, SigmaSpacingsDiffbenchDoesNotRunAreRefusedNotIgnored) {
  SchedulerConfig c;
  c.use_exponential_sigmas = true;  // EulerDiscreteScheduler honours it; diffbench's euler does not
  EXPECT_THROW(plan_for(find_sampler("euler"), NoiseSchedule(c), c, 4), UsageError);
  c.use_exponential_sigmas = false;
  c.use_beta_sigmas = true;
  EXPECT_THROW(plan_for(find_sampler("dpmpp_2m"), NoiseSchedule(c), c, 4), UsageError);
  SchedulerConfig flow = flow_config();
  flow.use_exponential_sigmas = true;
  EXPECT_NO_THROW(plan_for(find_sampler("flow_euler"), NoiseSchedule(flow), flow, 4));
}

TEST(FlowCli, AFlowRunRecordsItsShiftAndNfeAndRefusesTheWrongDialect) {
  const std::string dir = scratch_dir("flow");
  auto r = run_cli(diffbench::testing::kTiny + "--sampler flow_euler");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("error: flow_euler samples flow-matching models"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--prediction-type flow_prediction"), std::string::npos) << r.err;
  r = run_cli(diffbench::testing::kTiny +
              "--sampler flow_heun --steps 3 --prediction-type flow_prediction --shift 3 "
              "--json " +
              dir + "/r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto run = nlohmann::json::parse(slurp(dir + "/r.json"))["runs"][0];
  EXPECT_EQ(run["nfe"], 5);
  EXPECT_EQ(run["config"]["scheduler_config"]["shift"], 3.0);
  EXPECT_EQ(run["integer_timesteps"], false);
  // Flux's config: mu from the latent shape (16x16 latents, 2x2 patches: 64 tokens).
  r = run_cli(diffbench::testing::kTiny +
              "--sampler flow_euler --steps 2 --config " DIFFBENCH_SOURCE_DIR "/configs/flux.json --json " + dir +
              "/f.json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto flux = nlohmann::json::parse(slurp(dir + "/f.json"))["runs"][0]["config"]["scheduler_config"];
  EXPECT_NEAR(flux["mu"].get<double>(), 0.5 + 0.65 * (64.0 - 256) / 3840, 1e-12);
}
