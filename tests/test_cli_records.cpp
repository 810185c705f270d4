// What the real binary prints and records: the table's row, a model exception as a failed run at
// its step (issue #22), latents_sha256 as the latents' own hash, settings a sampler ignores, and
// the model evaluations (NFE) each sampler makes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "cli_runner.h"
#include "diffbench/core/npy.h"
#include "diffbench/core/sha256.h"
#include "diffbench/plans/sweep.h"

using namespace diffbench;
using namespace diffbench::testing;

namespace {

const std::string kRecordRun = "--warmup 0 --repeat 1 --threads 1 --sampler ddim --steps 4 ";

}  // namespace

TEST(CliRecords, AModelThatRaisesIsAFailedRecordAtItsStepAndTheOtherSamplersRun) {
  // Issue #22: raising inside forward for t < 500 used to end the process with no JSON and skip
  // the remaining samplers. Now it is recorded like NaN: failed, at its step, the rest measured.
  std::string dir = scratch_dir("throws");
  CliResult r = run_cli("--warmup 0 --repeat 1 --threads 1 --shape 1,4,8,8 --unet " + kData +
                        "throws_below_500.pt --json " + dir + "/r.json");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("deliberate failure inside forward for t < 500"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("frame #"), std::string::npos) << r.err;
  auto j = nlohmann::json::parse(slurp(dir + "/r.json"));
  ASSERT_EQ(j["runs"].size(), 6u);  // the lecture's six samplers, every one run
  std::map<std::string, nlohmann::json> by_sampler;
  for (const auto& run : j["runs"]) by_sampler[run["config"]["sampler"]] = run;
  // DDIM 50 leading steps from t=981 by 20: t=481 (< 500) is step 25. Turbo's one step is t=999.
  EXPECT_EQ(by_sampler["ddim"]["status"], "failed");
  EXPECT_EQ(by_sampler["ddim"]["failed_step"], 25);
  EXPECT_NE(by_sampler["ddim"]["error"].get<std::string>().find("failed in forward"), std::string::npos);
  EXPECT_EQ(by_sampler["turbo"]["status"], "ok");
  for (const char* s : {"ddpm", "dpmpp_2m", "euler_a", "lcm"}) {
    EXPECT_EQ(by_sampler[s]["status"], "failed") << s;
    EXPECT_TRUE(by_sampler[s]["failed_step"].is_number_integer()) << s;
  }
  // A model that raises at its very first call fails every run at step 0, and the JSON is written.
  CliResult first = run_cli(kRecordRun + "--shape 1,4,8,8 --unet " + kData + "throws.pt --json " + dir + "/t.json");
  EXPECT_EQ(first.code, 1);
  auto t = nlohmann::json::parse(slurp(dir + "/t.json"));
  EXPECT_EQ(t["runs"][0]["status"], "failed");
  EXPECT_EQ(t["runs"][0]["failed_step"], 0);
  // In a sweep, each failed cell carries its step too, and the other cells still run.
  CliResult sweep =
      run_cli("sweep -q --warmup 0 --repeat 1 --threads 1 --unet " + kData +
              "throws_below_500.pt --shape 1,4,8,8 --sampler ddim,euler --steps 10 --jsonl " + dir + "/s.jsonl");
  EXPECT_EQ(sweep.code, 1) << sweep.err;
  Report cells = read_report(dir + "/s.jsonl");
  ASSERT_EQ(cells.runs.size(), 2u);
  for (const auto& run : cells.runs) {
    EXPECT_EQ(run["status"], "failed");
    EXPECT_EQ(run["failed_step"], 5) << run["config"]["sampler"];  // t = 401 (ddim) / the 6th sigma (euler)
  }
}

TEST(CliRecords, LatentsSha256IsTheHashOfTheSavedLatentsAndDiffersBetweenSeeds) {
  // The shard checks compare latents_sha256 across processes: it must be the latents' own hash.
  std::string dir = scratch_dir("latents_hash");
  std::vector<std::string> hashes;
  for (const char* seed : {"1", "2"}) {
    const std::string base = dir + "/s" + seed;
    ASSERT_EQ(run_cli("--warmup 0 --repeat 1 --threads 1 --unet " + kModels +
                      "tiny.pt --shape 1,4,8,8 --sampler euler_a --seed " + seed + " --save-latents " + base +
                      ".npy --json " + base + ".json")
                  .code,
              0);
    at::Tensor latents = from_npy(slurp(base + ".npy"), base + ".npy").contiguous();
    ASSERT_EQ(latents.scalar_type(), at::kFloat);
    const std::string bytes(static_cast<const char*>(latents.data_ptr()), static_cast<size_t>(latents.nbytes()));
    auto j = nlohmann::json::parse(slurp(base + ".json"));
    ASSERT_TRUE(j["runs"][0]["latents_sha256"].is_string());
    EXPECT_EQ(j["runs"][0]["latents_sha256"], sha256_hex(bytes)) << seed;
    hashes.push_back(j["runs"][0]["latents_sha256"]);
  }
  EXPECT_NE(hashes[0], hashes[1]);
}

TEST(CliRecords, NanIsReportedAtItsStepAndTheJsonKeepsTheRun) {
  std::string dir = scratch_dir("nan");
  CliResult r = run_cli(kRecordRun + "--shape 1,4,8,8 --unet " + kData + "nan_after_500.pt --json " + dir + "/r.json");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("NaN/Inf at step 2"), std::string::npos) << r.err;
  auto j = nlohmann::json::parse(slurp(dir + "/r.json"));
  EXPECT_EQ(j["runs"][0]["status"], "failed");
  EXPECT_EQ(j["runs"][0]["failed_step"], 2);
}

TEST(CliRecords, ASettingTheSamplerIgnoresIsNotedAndRecordedAsOff) {
  // Issue #22: `--sampler ddim --karras` ran plain DDIM yet recorded use_karras_sigmas: true.
  std::string dir = scratch_dir("karras");
  CliResult ddim = run_cli(kRecordRun + "--unet " + kModels + "tiny.pt --karras --json " + dir + "/d.json");
  ASSERT_EQ(ddim.code, 0) << ddim.err;
  EXPECT_NE(ddim.err.find("ddim ignores use_karras_sigmas"), std::string::npos) << ddim.err;
  auto d = nlohmann::json::parse(slurp(dir + "/d.json"));
  EXPECT_EQ(d["runs"][0]["config"]["scheduler_config"]["use_karras_sigmas"], false);
  CliResult euler = run_cli("--warmup 0 --repeat 1 --threads 1 --steps 4 --sampler euler --unet " + kModels +
                            "tiny.pt --karras --json " + dir + "/e.json");
  ASSERT_EQ(euler.code, 0) << euler.err;
  EXPECT_EQ(euler.err.find("ignores use_karras_sigmas"), std::string::npos) << euler.err;
  auto e = nlohmann::json::parse(slurp(dir + "/e.json"));
  EXPECT_EQ(e["runs"][0]["config"]["scheduler_config"]["use_karras_sigmas"], true);
}

TEST(CliRecords, TablePrintsSamplerStepsAndTimes) {
  CliResult r = run_cli("--unet " + kModels + "tiny.pt --warmup 0 --repeat 1 --threads 1 --sampler ddim --steps 7");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Time/Step"), std::string::npos);
  // The row itself: "ddim", then the step count 7 in the Steps column, then a time per step.
  std::istringstream table(r.out);
  std::string line, sampler, steps, per_step, unit;
  while (std::getline(table, line) && line.rfind("ddim", 0) != 0) {
  }
  std::istringstream row(line);
  row >> sampler >> steps >> per_step >> unit;
  EXPECT_EQ(sampler, "ddim") << r.out;
  EXPECT_EQ(steps, "7") << r.out;
  EXPECT_GT(std::stod(per_step), 0.0) << r.out;
  EXPECT_TRUE(unit == "s" || unit == "ms" || unit == "us") << r.out;
}

TEST(CliRecords, NfeCountsEveryModelCallHeunMakesTwoAStepButTheLast) {
  // Issue #23: "Heun's 20 steps are 39 model calls"; every table and JSON says so next to steps.
  std::string dir = scratch_dir("nfe");
  CliResult r = run_cli("sweep --unet " + kModels +
                        "tiny.pt --warmup 0 --repeat 2 --threads 1 --sampler heun,ddim,dpmpp_2m "
                        "--steps 5 --json " +
                        dir + "/r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  std::map<std::string, int> nfe;
  const auto doc = nlohmann::json::parse(slurp(dir + "/r.json"));
  for (const auto& run : doc["runs"]) nfe[run["config"]["sampler"].get<std::string>()] = run["nfe"].get<int>();
  EXPECT_EQ(nfe["heun"], 9);
  EXPECT_EQ(nfe["ddim"], 5);
  EXPECT_EQ(nfe["dpmpp_2m"], 5);
  EXPECT_NE(r.out.find("NFE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("NFE: model evaluations per image run"), std::string::npos) << r.out;  // the legend says
}

// #41: an images folder named with a trailing slash, not yet there, is made (it was refused as
// "cannot create it"); and the default digit teacher (ten conditioning rows) runs any batch, so the
// README's `sweep --batch 1,4` works as printed.
TEST(CliRecords, ImagesFolderWithATrailingSlashAndAnyBatchOfTheDigitTeacher) {
  std::string dir = scratch_dir("slash");
  CliResult r = run_cli("--sampler ddim --steps 2 --warmup 0 --repeat 1 --threads 1 -q --save-images " + dir +
                        "/images/");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(slurp(dir + "/images/grid.png").empty());
  r = run_cli("sweep --sampler ddim --steps 1 --batch 1,4 --warmup 0 --repeat 1 --threads 1 -q --json " + dir +
              "/s.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(slurp(dir + "/s.json"))["runs"].size(), 2u);
}
