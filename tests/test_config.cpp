// scheduler_config.json reading: SD 1.5's file as shipped, warnings, typed errors, presets.
#include <gtest/gtest.h>

#include "diffbench/core/errors.h"
#include "diffbench/schedule/scheduler_config.h"

using namespace diffbench;

namespace {

std::string usage_error(const std::string& text) {
  try {
    parse_scheduler_config(text, "'t.json'", nullptr);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Config, Sd15FileLoadsAsShippedWithoutWarnings) {
  std::vector<std::string> warnings;
  SchedulerConfig c = load_scheduler_config(DIFFBENCH_SOURCE_DIR "/configs/sd15.json", &warnings);
  EXPECT_TRUE(warnings.empty()) << warnings.front();  // skip_prk_steps belongs to PNDM: not an error
  EXPECT_EQ(c.beta_schedule, BetaSchedule::scaled_linear);
  EXPECT_DOUBLE_EQ(c.beta_start, 0.00085);
  EXPECT_EQ(c.steps_offset, 1);
  EXPECT_FALSE(c.trained_betas.has_value());  // null means "not set"
}

TEST(Config, PresetsLoad) {
  for (const char* name : {"sd15", "sdxl", "sdxl-turbo", "lcm-sd15"}) {
    std::vector<std::string> warnings;
    SchedulerConfig c =
        load_scheduler_config(std::string(DIFFBENCH_SOURCE_DIR "/configs/") + name + ".json", &warnings);
    EXPECT_TRUE(warnings.empty()) << name;
    EXPECT_EQ(c.num_train_timesteps, 1000) << name;
  }
  EXPECT_EQ(load_scheduler_config(DIFFBENCH_SOURCE_DIR "/configs/sdxl-turbo.json", nullptr).timestep_spacing,
            TimestepSpacing::trailing);
}

TEST(Config, UnknownKeysAreNamedInAWarning) {
  std::vector<std::string> warnings;
  parse_scheduler_config(R"({"beta_start": 0.001, "frobnicate": 3})", "'t.json'", &warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("frobnicate"), std::string::npos);
}

TEST(Config, WrongTypeNamesTheKey) {
  EXPECT_NE(usage_error(R"({"beta_start": "0.001"})").find("'beta_start' must be a number"), std::string::npos);
  EXPECT_NE(usage_error(R"({"steps_offset": 1.5})").find("'steps_offset' must be an integer"), std::string::npos);
  EXPECT_NE(usage_error(R"({"clip_sample": 1})").find("'clip_sample' must be true or false"), std::string::npos);
}

TEST(Config, InvalidJsonGivesLineAndColumn) {
  std::string e = usage_error("{\n  \"beta_start\": 0.001,\n  oops\n}");
  EXPECT_NE(e.find("line 3"), std::string::npos) << e;
  EXPECT_NE(e.find("column"), std::string::npos) << e;
}

TEST(Config, EmptyAndNonObjectFilesAreErrors) {
  EXPECT_NE(usage_error("  \n").find("empty"), std::string::npos);
  EXPECT_NE(usage_error("[1, 2]").find("must be a JSON object"), std::string::npos);
}

TEST(Config, BadNamesListTheValidOnes) {
  std::string e = usage_error(R"({"beta_schedule": "scaled_linaer"})");
  EXPECT_NE(e.find("valid: linear, scaled_linear, squaredcos_cap_v2"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'scaled_linear'"), std::string::npos) << e;
  EXPECT_NE(usage_error(R"({"prediction_type": "eps"})").find("epsilon"), std::string::npos);
}

TEST(Config, MissingFileIsAnError) {
  EXPECT_THROW(load_scheduler_config("/nonexistent/scheduler_config.json", nullptr), UsageError);
}
