// Reports: CSV and Markdown pinned on a fixed result; a real run's JSON validates against the
// schema file and its numbers are consistent; quality against a reference.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "cli_runner.h"
#include "diffbench/samplers/registry.h"
#include "diffbench/report/tables.h"

using namespace diffbench;
using namespace diffbench::testing;

namespace {

RunResult fixed_result(const std::string& sampler, int steps, std::vector<double> totals) {
  RunResult r;
  r.spec.sampler = &find_sampler(sampler);
  r.spec.steps = steps;
  r.spec.shape = {2, 4, 8, 8};
  r.spec.seed = 7;
  for (double t : totals) {
    RepeatResult rep;
    rep.total_s = t;
    rep.step_s.assign(steps, t / steps);
    rep.model_s.assign(steps, t / steps / 2);
    r.repeats.push_back(rep);
  }
  return r;
}

std::vector<RunRow> fixed_rows() {
  std::vector<RunResult> results = {fixed_result("ddpm", 4, {0.4, 0.5, 0.6}), fixed_result("ddim", 2, {0.1, 0.1, 0.1})};
  Quality q;
  q.reference = "dpmpp_2m:200";
  q.rmse = 0.25;
  q.max_abs = 1.5;
  q.psnr_db = 20.0;
  results[1].quality = q;
  return summarize_runs(results, "ddpm");
}

}  // namespace

TEST(Reports, MarkdownIsPinned) {
  EXPECT_EQ(markdown_table(fixed_rows()),
            "| Sampler | Steps | Time/Step | Total | it/s | Spread | Speed-up | RMSE / PSNR vs reference |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|\n"
            "| ddpm | 4 | 125.00 ms | 500.00 ms | 8.0 | 20.0%! | 1.0x |  |\n"
            "| ddim | 2 | 50.00 ms | 100.00 ms | 20.0 | 0.0% | 5.0x | 0.25 / 20.0 dB |\n");
}

TEST(Reports, ModelColumnAppearsOnlyWhenRowsRunOnDifferentModels) {
  std::vector<RunResult> results = {fixed_result("ddim", 2, {0.1, 0.1, 0.1}), fixed_result("lcm", 4, {0.2, 0.2, 0.2})};
  results[0].spec.model_name = "unet.pt";
  results[1].spec.model_name = "lcm.pt";
  EXPECT_EQ(markdown_table(summarize_runs(results)),
            "| Sampler | Model | Steps | Time/Step | Total | it/s | Spread |\n"
            "|---|---|---:|---:|---:|---:|---:|\n"
            "| ddim | unet.pt | 2 | 50.00 ms | 100.00 ms | 20.0 | 0.0% |\n"
            "| lcm | lcm.pt | 4 | 50.00 ms | 200.00 ms | 20.0 | 0.0% |\n");
  EXPECT_NE(console_table(summarize_runs(results)).find("Model"), std::string::npos);
  results[1].spec.model_name = "unet.pt";
  EXPECT_EQ(markdown_table(summarize_runs(results)).find("Model"), std::string::npos);
  EXPECT_EQ(console_table(summarize_runs(results)).find("Model"), std::string::npos);
  results[1].spec.model_name = "a,b\".pt";  // RFC 4180 quoting of the model field
  EXPECT_NE(csv_table(summarize_runs(results)).find(",\"a,b\"\".pt\",4,,,,,,\n"), std::string::npos);
}

TEST(Reports, CsvIsPinned) {
  EXPECT_EQ(
      csv_table(fixed_rows()),
      "sampler,steps,shape,seed,status,repeats,total_median_s,total_iqr_s,total_ci_low_s,total_ci_high_s,"
      "step_median_s,model_median_s,sampler_median_s,steps_per_s,images_per_s,outside_model_fraction,speedup,"
      "reference,rmse,max_abs,psnr_db,fd,fd_ci_low,fd_ci_high,fd_samples,fd_per_image_s,model,nfe,"
      "kid,kid_ci_low,kid_ci_high,fd_inf,fd_inf_ci_low,fd_inf_ci_high\n"
      "ddpm,4,2x4x8x8,7,ok,3,0.5,0.1,0.4,0.6,0.125,0.25,0.25,8,4,0.5,1,,,,,,,,,,,4,,,,,,\n"
      "ddim,2,2x4x8x8,7,ok,3,0.1,0,0.1,0.1,0.05,0.05,0.05,20,20,0.5,5,dpmpp_2m:200,0.25,1.5,20.0,,,,,,,2,,,,,,\n");
  auto rows = fixed_rows();
  rows[1].nfe = 3;  // model evaluations, last (a column appended: earlier columns keep their places)
  EXPECT_NE(csv_table(rows).find(",20.0,,,,,,,3,,,,,,\n"), std::string::npos) << csv_table(rows);
  rows[0].speedup = 0;  // no baseline: the field is empty, never a speed-up of 0 (issue #22)
  EXPECT_NE(csv_table(rows).find("\nddpm,4,2x4x8x8,7,ok,3,0.5,0.1,0.4,0.6,0.125,0.25,0.25,8,4,0.5,,,"),
            std::string::npos)
      << csv_table(rows);
}

TEST(Reports, RealRunValidatesAgainstTheSchemaFileAndIsConsistent) {
  std::string dir = scratch_dir("schema");
  CliResult r = run_cli(kTiny + "--sampler ddim --steps 6 --repeat 4 --vae " + kModels +
                        "vae_tiny.pt --shape 1,4,8,8 --json " + dir + "/r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  std::string check = DIFFBENCH_PYTHON " -c \"import json, jsonschema; jsonschema.validate(json.load(open('" + dir +
                      "/r.json')), json.load(open('" DIFFBENCH_SOURCE_DIR "/docs/diffbench.schema.json')))\"";
  EXPECT_EQ(std::system(check.c_str()), 0) << "schema validation failed";
  auto run = nlohmann::json::parse(slurp(dir + "/r.json"))["runs"][0];
  EXPECT_EQ(run["repeats"].size(), 4u);
  EXPECT_EQ(run["stats"]["total_s"]["n"], 4);
  for (const auto& rep : run["repeats"]) {
    double parts = rep["init_noise_s"].get<double>() + rep["vae_s"].get<double>() + rep["rest_s"].get<double>();
    for (double s : rep["step_s"]) parts += s;
    EXPECT_NEAR(parts, rep["total_s"].get<double>(), 1e-9);  // the breakdown adds up to the total
    EXPECT_GT(rep["vae_s"].get<double>(), 0.0);
  }
  double outside = run["outside_model_fraction"];
  EXPECT_GE(outside, 0.0);
  EXPECT_LT(outside, 1.0);
  EXPECT_GT(run["memory"]["peak_rss_bytes"].get<int64_t>(), 0);
}

TEST(Reports, ASamplerAgainstItselfHasZeroError) {
  CliResult r = run_cli(kTiny + "--sampler euler_a --steps 5 --reference euler_a:5 --json -");
  ASSERT_EQ(r.code, 0) << r.err;
  auto q = nlohmann::json::parse(r.out)["runs"][0]["quality"];
  EXPECT_EQ(q["latents"]["rmse"], 0.0);
  EXPECT_EQ(q["latents"]["max_abs"], 0.0);
  EXPECT_TRUE(q["latents"]["psnr_db"].is_null());  // infinite
  EXPECT_EQ(q["per_sample"], true);  // stochastic: one sample against one sample
}

TEST(Reports, MoreDdimStepsAreCloserToADpmSolverReference) {
  // On the exact Gaussian denoiser (a real denoiser: the ODE is well behaved).
  double previous = 1e9;
  for (int steps : {5, 10, 20, 50}) {
    CliResult r =
        run_cli("--unet " + kModels + "gaussian.pt --warmup 0 --repeat 1 --threads 1 -q --sampler ddim --steps " +
                std::to_string(steps) + " --reference dpmpp_2m:200 --json -");
    ASSERT_EQ(r.code, 0) << r.err;
    double rmse = nlohmann::json::parse(r.out)["runs"][0]["quality"]["latents"]["rmse"];
    EXPECT_LT(rmse, previous) << steps;
    previous = rmse;
  }
}

TEST(Reports, AnNfeColumnWhereSomeSamplerCallsTheModelMoreThanOnceAStep) {
  auto rows = fixed_rows();
  rows[0].nfe = rows[0].steps, rows[1].nfe = rows[1].steps;
  EXPECT_EQ(console_table(rows).find("NFE"), std::string::npos);  // one call a step: the lecture's table as it was
  EXPECT_EQ(markdown_table(rows).find("NFE"), std::string::npos);
  rows[1].nfe = 2 * rows[1].steps - 1;  // Heun
  const std::string console = console_table(rows), markdown = markdown_table(rows);
  EXPECT_NE(console.find("  Steps   NFE"), std::string::npos) << console;
  EXPECT_NE(console.find("ddim            2     3"), std::string::npos) << console;
  EXPECT_NE(markdown.find("| Steps | NFE |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| ddim | 2 | 3 |"), std::string::npos) << markdown;
}

TEST(Reports, ALongSamplerNameWidensTheFirstColumnSoTheRowsStayAligned) {
  auto rows = fixed_rows();
  rows[1].sampler = "dpmpp_2m_sde";  // 12 characters: the column was 10 wide
  std::istringstream table(console_table(rows));
  std::string header, first, second;
  std::getline(table, header), std::getline(table, first), std::getline(table, second);
  EXPECT_EQ(header.substr(0, 13), "Sampler      ") << header;
  EXPECT_EQ(first.substr(0, 13), "ddpm         ") << first;
  EXPECT_EQ(second.substr(0, 13), "dpmpp_2m_sde ") << second;
  EXPECT_EQ(header.find("Steps") + 5, first.find(" 4 ") + 2);  // the steps right-aligned under the header
}
