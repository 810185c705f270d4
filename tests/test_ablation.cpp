// `diffbench ablate` as a library: toggles, the plan, the speed-up interval, output drift and the
// verdicts, on inputs whose answers are known.
#include <cmath>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "diffbench/plans/ablation.h"
#include "diffbench/core/errors.h"
#include "diffbench/plans/ablation_tables.h"

namespace diffbench {
namespace {

TEST(AblationToggles, CanonicalNamesAndOneErrorPerMistake) {
  EXPECT_EQ(parse_toggles("freeze,bf16,vae-tiling=8,threads=1"),
            (std::vector<std::string>{"freeze", "bf16", "vae-tiling=8:2", "threads=1"}));
  try {
    parse_toggles("freez");
    FAIL() << "an unknown toggle was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'freeze'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_toggles("bf16,fp16"), UsageError);  // both set the dtype
  EXPECT_THROW(parse_toggles("freeze,freeze"), UsageError);
  EXPECT_THROW(parse_toggles("vae-tiling"), UsageError);
  EXPECT_THROW(parse_toggles("threads=0"), UsageError);
  EXPECT_THROW(parse_toggles(","), UsageError);
}

TEST(AblationToggles, FastSamplerWithAndWithoutAModel) {
  const FastSampler f = parse_fast("lcm:4@models/digits/lcm.pt");
  EXPECT_EQ(f.sampler, "lcm");
  EXPECT_EQ(f.steps, 4);
  EXPECT_EQ(f.model, "models/digits/lcm.pt");
  EXPECT_EQ(parse_fast("ddim:2").model, "");
  EXPECT_THROW(parse_fast("lcm"), UsageError);
  EXPECT_THROW(parse_fast("lcm:0"), UsageError);
  EXPECT_THROW(parse_fast("nope:4"), UsageError);
  EXPECT_THROW(parse_fast("lcm:4@"), UsageError);
}

TEST(AblationPlan, BaselineEachToggleAloneAllTogetherThenTheFewStepRung) {
  const auto plan = ablation_plan({"freeze", "bf16", "vae-tiling=8:2"}, FastSampler{"lcm", 4, ""});
  ASSERT_EQ(plan.size(), 6u);
  EXPECT_EQ(plan[0].label, "baseline");
  EXPECT_TRUE(plan[0].toggles.empty());
  EXPECT_TRUE(plan[1].freeze);
  EXPECT_FALSE(plan[1].dtype.has_value());  // unset: the baseline's
  EXPECT_FALSE(plan[1].threads.has_value());
  EXPECT_EQ(plan[2].dtype, "bf16");
  EXPECT_FALSE(plan[2].freeze);
  ASSERT_TRUE(plan[3].vae_tiling.has_value());
  EXPECT_EQ(plan[3].vae_tiling->tile, 8);
  EXPECT_EQ(plan[4].label, "all");
  EXPECT_TRUE(plan[4].freeze && plan[4].dtype == "bf16" && plan[4].vae_tiling);
  EXPECT_TRUE(plan[5].few_step);
  EXPECT_EQ(plan[5].sampler, "lcm");
  EXPECT_EQ(plan[5].steps, 4);
  EXPECT_FALSE(plan[4].steps.has_value());  // the baseline's steps
  EXPECT_EQ(plan[5].toggles, plan[4].toggles);
  // One toggle: no "all" row (it would repeat that toggle's row).
  EXPECT_EQ(ablation_plan({"freeze"}, std::nullopt).size(), 2u);
}

// compile runs the model's AOTInductor package: alone it is a row; in "all" it supersedes freeze and
// channels-last (a package is compiled already), which the row records rather than failing on.
TEST(AblationPlan, CompileSupersedesFreezeAndChannelsLastInTheAllRowAndSaysSo) {
  const auto plan = ablation_plan(parse_toggles("freeze,compile,bf16,channels-last"), std::nullopt);
  ASSERT_EQ(plan.size(), 6u);
  EXPECT_TRUE(plan[2].compiled && !plan[2].freeze && plan[2].superseded.empty());
  EXPECT_TRUE(plan[1].freeze && !plan[1].compiled);
  const AblationConfig& all = plan[5];
  EXPECT_EQ(all.label, "all");
  EXPECT_TRUE(all.compiled && all.dtype == "bf16");
  EXPECT_FALSE(all.freeze || all.channels_last);
  EXPECT_EQ(all.toggles, (std::vector<std::string>{"compile", "bf16"}));
  EXPECT_EQ(all.superseded, (std::vector<std::string>{"freeze", "channels-last"}));
  EXPECT_TRUE(ablation_plan({"freeze", "bf16"}, std::nullopt).back().superseded.empty());
}

TEST(AblationSpeedUp, AKnownRatioIsEstimatedAndCovered) {
  const std::vector<double> base = {2.0, 2.1, 1.9, 2.05, 1.95, 2.02};
  std::vector<double> half;
  for (double b : base) half.push_back(b / 2);
  const SpeedUp s = speedup(base, half);
  EXPECT_NEAR(s.estimate, 2.0, 0.03);
  EXPECT_LT(s.low, 2.0);
  EXPECT_GT(s.high, 2.0);
  EXPECT_GT(s.low, 1.0);  // decided: faster
  EXPECT_EQ(s.level, 0.95);
  const SpeedUp same = speedup(base, base);
  EXPECT_NEAR(same.estimate, 1.0, 1e-12);
  EXPECT_LT(same.low, 1.0);
  EXPECT_GT(same.high, 1.0);
  // Two figures a side cannot give a 95% interval: the whole range, said with level 0.
  const SpeedUp few = speedup({1.0, 1.1}, {0.5, 0.6});
  EXPECT_EQ(few.level, 0);
  EXPECT_DOUBLE_EQ(few.low, 1.0 / 0.6);
  EXPECT_DOUBLE_EQ(few.high, 1.1 / 0.5);
}

TEST(AblationDrift, PsnrOfAKnownErrorOnImagesElseLatents) {
  RunResult base, run;
  base.latents = at::zeros({1, 4, 2, 2});
  run.latents = base.latents.clone();
  base.images = at::zeros({1, 3, 4, 4});
  run.images = base.images + 0.02;  // RMSE 0.02 on images whose range is 2: 20 log10(100) = 40 dB
  std::string on;
  EXPECT_NEAR(output_drift_db(run, base, &on), 40.0, 1e-4);
  EXPECT_EQ(on, "images");
  EXPECT_TRUE(std::isinf(output_drift_db(base, base, &on)));
  run.images = at::Tensor();
  base.latents = at::arange(16, at::kFloat).reshape({1, 4, 2, 2});  // range 15
  run.latents = base.latents + 0.15;
  EXPECT_NEAR(output_drift_db(run, base, &on), 40.0, 1e-4);
  EXPECT_EQ(on, "latents");
}

AblationRow row_of(const std::string& label, std::vector<double> per_image, int64_t memory,
                   std::optional<double> drift) {
  AblationRow r;
  r.config.label = label;
  r.per_image_s = std::move(per_image);
  r.run_memory_bytes = memory;
  r.drift_psnr_db = drift;
  return r;
}

TEST(AblationVerdict, FasterSlowerUndecidedAndChangedResults) {
  Ablation a;
  a.max_drift_db = 40;
  a.rows.push_back(row_of("baseline", {1.0, 1.01, 0.99, 1.02, 0.98}, 100, std::nullopt));
  a.rows.push_back(row_of("fast", {0.5, 0.51, 0.49, 0.5, 0.52}, 50, 80.0));
  a.rows.push_back(row_of("slow", {2.0, 2.1, 1.9, 2.0, 2.05}, 100, 35.0));
  a.rows.push_back(row_of("same", {1.0, 1.01, 0.99, 1.02, 0.98}, 200, std::numeric_limits<double>::infinity()));
  AblationRow failed = row_of("broken", {}, 0, std::nullopt);
  failed.status = RunStatus::failed;
  a.rows.push_back(failed);
  finish_ablation(a);
  EXPECT_EQ(verdict_text(a.rows[0]), "baseline");
  EXPECT_EQ(verdict_text(a.rows[1]), "faster");
  EXPECT_DOUBLE_EQ(a.rows[1].memory_ratio, 0.5);
  EXPECT_DOUBLE_EQ(a.rows[1].time_per_image_s, 0.5);
  EXPECT_EQ(verdict_text(a.rows[2]), "slower, changes results");
  EXPECT_EQ(a.rows[2].verdict, AblationVerdict::slower);  // typed: the speed verdict and the drift apart
  EXPECT_TRUE(a.rows[2].changes_results);
  EXPECT_EQ(verdict_text(a.rows[3]), "no clear change");  // identical output is no change of results
  EXPECT_DOUBLE_EQ(a.rows[3].memory_ratio, 2.0);
  EXPECT_EQ(verdict_text(a.rows[4]), "failed");
  const std::string table = ablation_console(a);
  EXPECT_NE(table.find("combined impact"), std::string::npos);
  EXPECT_NE(table.find("identical"), std::string::npos);
  const nlohmann::json j = ablation_json(a);
  EXPECT_EQ(j["rows"].size(), 5u);
  EXPECT_EQ(j["rows"][3]["drift"]["identical"], true);
  EXPECT_EQ(j["rows"][2]["drift"]["psnr_db"], 35.0);
}

TEST(AblationVerdict, TooFewFiguresForAnIntervalGiveNoVerdictAndARangeNotACi) {
  // A row cut short (an interrupted run keeps 2 repeats) cannot reach 95%, however clear it looks.
  Ablation a;
  a.rows.push_back(row_of("baseline", {1.0, 1.01, 0.99, 1.02, 0.98}, 100, std::nullopt));
  a.rows.push_back(row_of("cut short", {0.5, 0.51}, 100, std::nullopt));
  a.rows.push_back(row_of("cut shorter", {0.5}, 100, std::nullopt));
  finish_ablation(a);
  EXPECT_EQ(a.rows[1].speedup.level, 0);
  EXPECT_EQ(verdict_text(a.rows[1]), "no verdict: 5 vs 2 figures give no 95% interval");
  EXPECT_EQ(a.rows[1].verdict, AblationVerdict::no_interval);
  EXPECT_EQ(verdict_text(a.rows[2]), "no verdict: 5 vs 1 figures give no 95% interval");
  const std::string table = ablation_console(a);
  EXPECT_NE(table.find("1.98x range 1.92-2.04"), std::string::npos) << table;
  EXPECT_EQ(table.find("faster"), std::string::npos) << table;
}

}  // namespace
}  // namespace diffbench
