// parse_manifest: a model's diffbench.json, typed once; files resolved against the model's folder.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "diffbench/core/errors.h"
#include "diffbench/models/manifest.h"

namespace diffbench {
namespace {

std::string parse_error(const nlohmann::json& meta) {
  try {
    parse_manifest(meta, "dir/unet.pt");
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

TEST(Manifest, FilesAreResolvedAgainstTheModelsFolderAndValuesTyped) {
  const nlohmann::json meta = {{"vae", "vae.pt"},
                               {"cond", "c.npy"},
                               {"fd_stats", "s.json"},
                               {"guidance_scale", 1.5},
                               {"dtype", "bf16"},
                               {"sampler", "lcm"},
                               {"steps", 4},
                               {"prediction_type", "v_prediction"},
                               {"sampler_models", {{"turbo", "turbo.pt"}}},
                               {"dtype_models", {{"fp32", "unet.pt"}, {"bf16", "unet-bf16.pt"}}}};
  const ModelManifest m = parse_manifest(meta, "models/x/unet.pt");
  EXPECT_EQ(m.vae, "models/x/vae.pt");
  EXPECT_EQ(m.cond, "models/x/c.npy");
  EXPECT_EQ(m.uncond, "");
  EXPECT_EQ(m.fd_stats, "models/x/s.json");
  EXPECT_EQ(*m.guidance_scale, 1.5);
  EXPECT_EQ(*m.dtype, at::kBFloat16);
  EXPECT_EQ(m.sampler, "lcm");
  EXPECT_EQ(*m.steps, 4);
  EXPECT_EQ(*m.prediction_type, PredictionType::v_prediction);
  EXPECT_EQ(m.sampler_models.at("turbo"), "models/x/turbo.pt");
  EXPECT_EQ(m.dtype_models.at(at::kBFloat16), "models/x/unet-bf16.pt");
  EXPECT_EQ(m.dtype_models.at(at::kFloat), "models/x/unet.pt");
  EXPECT_EQ(parse_manifest(meta, "unet.pt").vae, "./vae.pt");  // a bare file name: this folder
}

TEST(Manifest, AnEmbeddedSchedulerConfigIsParsedOnceWithItsUnreadKeysAsWarnings) {
  const nlohmann::json meta = {
      {"scheduler_config", {{"beta_end", 0.02}, {"timestep_spacing", "trailing"}, {"frobnicate", 1}}},
      {"scheduler_config_source", "configs/x.json"}};
  const ModelManifest m = parse_manifest(meta, "dir/unet.pt");
  ASSERT_TRUE(m.scheduler_config.has_value());
  EXPECT_EQ(m.scheduler_config->beta_end, 0.02);
  EXPECT_EQ(m.scheduler_config->timestep_spacing, TimestepSpacing::trailing);
  EXPECT_EQ(m.scheduler_config_source, "configs/x.json");
  ASSERT_EQ(m.warnings.size(), 1u);
  EXPECT_NE(m.warnings[0].find("unknown key 'frobnicate'"), std::string::npos) << m.warnings[0];
}

TEST(Manifest, ASchedulerConfigFileIsReadBesideTheModel) {
  const std::string dir = ::testing::TempDir();
  std::ofstream(dir + "/sched.json") << R"({"num_train_timesteps": 500})";
  const ModelManifest m = parse_manifest({{"scheduler_config", "sched.json"}}, dir + "/unet.pt");
  EXPECT_EQ(m.scheduler_config->num_train_timesteps, 500);
  EXPECT_EQ(m.scheduler_config_source, dir + "/sched.json");
  std::remove((dir + "/sched.json").c_str());
}

TEST(Manifest, AValueOfTheWrongKindIsAnErrorNamingItsKey) {
  EXPECT_EQ(parse_error({{"vae", 5}}), "the manifest of 'dir/unet.pt': vae must be a string, got 5");
  EXPECT_EQ(parse_error({{"guidance_scale", "high"}}),
            "the manifest of 'dir/unet.pt': guidance_scale must be a number, got \"high\"");
  EXPECT_EQ(parse_error({{"steps", 2.5}}),
            "the manifest of 'dir/unet.pt': steps must be an integer from 1 to 100000, got 2.5");
  // #42: 10^12 steps was read as -727379968 and blamed on a flag never given.
  EXPECT_EQ(parse_error({{"steps", 1000000000000}}),
            "the manifest of 'dir/unet.pt': steps must be an integer from 1 to 100000, got 1000000000000");
  EXPECT_NE(parse_error({{"patch_size", 0}}).find("patch_size must be an integer from 1 to 64, got 0"), std::string::npos);
  EXPECT_NE(parse_error({{"sampler", "dpm++"}}).find("did you mean"), std::string::npos);
  EXPECT_NE(parse_error({{"dtype", "fp8"}}).find("fp8"), std::string::npos);
  EXPECT_NE(parse_error({{"sampler_models", {{"lcm", 3}}}}).find("sampler_models.lcm must be a file name"),
            std::string::npos);
  EXPECT_NE(parse_error({{"dtype_models", {{"fp8", "u.pt"}}}}).find("fp8"), std::string::npos);
  EXPECT_NE(parse_error({{"dtype_models", {{"bf16", 1}}}}).find("dtype_models.bf16 must be a file name"),
            std::string::npos);
  EXPECT_NE(parse_error({{"dtype_models", "unet-bf16.pt"}}).find("dtype_models must be an object"), std::string::npos);
}

TEST(Manifest, NoManifestIsAnEmptyOne) {
  const ModelManifest m = parse_manifest(nlohmann::json::object(), "unet.pt");
  EXPECT_TRUE(m.vae.empty());
  EXPECT_FALSE(m.steps.has_value());
  EXPECT_FALSE(m.scheduler_config.has_value());
  EXPECT_TRUE(m.sampler_models.empty());
}

}  // namespace
}  // namespace diffbench
