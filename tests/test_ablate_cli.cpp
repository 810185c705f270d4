// The optimisation flags, --profile and `diffbench ablate` through the real binary.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "cli_runner.h"
#include "diffbench/models/vae_tiling.h"

namespace diffbench::testing {
namespace {

const std::string kTinyVae = "--vae " + kModels + "vae_tiny.pt ";

TEST(AblateCli, OptimisationFlagsEachIsRecordedInTheRunConfig) {
  const std::string dir = scratch_dir("optflags");
  CliResult r = run_cli(kTiny + kTinyVae +
                        "--sampler ddim --steps 2 --freeze --channels-last --vae-tiling 8:2 --json " + dir + "/r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(slurp(dir + "/r.json"));
  const auto& opt = j["runs"][0]["config"]["optimisations"];
  EXPECT_EQ(opt["freeze"], true);
  EXPECT_EQ(opt["channels_last"], true);
  EXPECT_EQ(opt["vae_tiling"]["tile"], 8);
  EXPECT_EQ(opt["vae_tiling"]["overlap"], 2);
  EXPECT_EQ(opt["cuda_graphs"], false);
  EXPECT_TRUE(opt["interop_threads"].is_null());
  EXPECT_GE(j["runs"][0]["memory"]["peak_rss_bytes"].get<int64_t>(),
            j["runs"][0]["memory"]["rss_start_bytes"].get<int64_t>());
}

// The notes a tiled decode earns, on the digit teacher (8x8 latents, its trained VAE), in the JSON.
std::vector<std::string> tiling_notes(const std::string& tiling, double* overlap_rmse) {
  const std::string dir = scratch_dir("tiling_notes");
  CliResult r = run_cli("--sampler ddim --steps 2 --warmup 0 --repeat 1 --threads 1 -q --vae-tiling " + tiling +
                        " --json " + dir + "/r.json");
  EXPECT_EQ(r.code, 0) << r.err;
  const auto run = nlohmann::json::parse(slurp(dir + "/r.json"))["runs"][0];
  *overlap_rmse = run["vae_tiling_overlap_rmse"];
  return run["notes"];
}

bool any_contains(const std::vector<std::string>& notes, const std::string& what) {
  return std::any_of(notes.begin(), notes.end(), [&](const auto& n) { return n.find(what) != std::string::npos; });
}

TEST(AblateCli, OptimisationFlagsATilingThatDoesNothingOrLeavesSeamsIsNoted) {
  double rmse = -1;
  auto notes = tiling_notes("16", &rmse);
  EXPECT_TRUE(any_contains(notes, "--vae-tiling 16:4: the 8x8 latents fit in one tile, so nothing is tiled"));
  EXPECT_EQ(rmse, 0);
  notes = tiling_notes("4", &rmse);  // 4x4 tiles overlapping by 1 latent pixel: the decoder sees further
  EXPECT_GT(rmse, kSeamRmse);
  EXPECT_TRUE(any_contains(notes, "--vae-tiling 4:1: neighbouring tiles differ by RMS")) << rmse;
}

TEST(AblateCli, OptimisationFlagsImpossibleOnesAreOneLineUsageErrors) {
  CliResult r = run_cli(kTiny + "--sampler ddim --steps 2 --vae-tiling 8");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("error: --vae-tiling needs a VAE"), std::string::npos) << r.err;
  r = run_cli(kTiny + kTinyVae + "--sampler ddim --steps 2 --vae-tiling 8:9");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("overlap must be smaller"), std::string::npos) << r.err;
#ifndef DIFFBENCH_CUDA
  r = run_cli(kTiny + "--sampler ddim --steps 2 --cuda-graphs");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--cuda-graphs needs a CUDA build"), std::string::npos) << r.err;
#endif
  r = run_cli(kTiny + "--sampler ddim --steps 2 --profile -");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(AblateCli, ProfileWritesAChromeTraceAndTheTopOperatorsInTheTableAndJson) {
  const std::string dir = scratch_dir("profile");
  CliResult r = run_cli("--unet " + kModels + "tiny.pt --warmup 0 --repeat 1 --threads 1 --sampler ddim --steps 3 " +
                        "--profile " + dir + "/trace.json --json " + dir + "/r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("operator (by self time)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("aten::"), std::string::npos) << r.out;
  const auto trace = nlohmann::json::parse(slurp(dir + "/trace.json"));
  ASSERT_GT(trace["traceEvents"].size(), 10u);
  const auto j = nlohmann::json::parse(slurp(dir + "/r.json"));
  const auto& profile = j["runs"][0]["profile"];
  EXPECT_EQ(profile["trace"], dir + "/trace.json");
  ASSERT_GE(profile["top_ops"].size(), 1u);
  EXPECT_LE(profile["top_ops"].size(), 10u);
  EXPECT_EQ(j["runs"][0]["repeats"].size(), 1u);  // the profiled repeat is not counted
  bool convolution = false;
  for (const auto& op : profile["top_ops"])
    convolution = convolution || op["name"].get<std::string>().find("conv") != std::string::npos;
  EXPECT_TRUE(convolution) << profile.dump();
}

TEST(AblateCli, TableJsonMarkdownAndCsvFromARealRun) {
  const std::string dir = scratch_dir("ablate");
  CliResult r = run_cli("ablate --unet " + kModels + "tiny.pt " + kTinyVae +
                        "--threads 1 --warmup 0 --repeat 4 --sampler ddim --steps 3 --fast ddim:1 "
                        "--toggles freeze,channels-last,vae-tiling=8:2 --json " +
                        dir + "/a.json --markdown " + dir + "/a.md --csv " + dir + "/a.csv");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("combined impact: baseline"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(slurp(dir + "/a.json"));
  const auto& rows = j["ablation"]["rows"];
  ASSERT_EQ(rows.size(), 6u);  // baseline, three toggles, all, all + ddim:1
  EXPECT_EQ(rows[0]["label"], "baseline");
  EXPECT_EQ(rows[0]["verdict"], "baseline");
  EXPECT_EQ(rows[4]["label"], "all");
  EXPECT_EQ(rows[5]["label"], "all + ddim:1");
  EXPECT_EQ(rows[5]["steps"], 1);
  EXPECT_EQ(j["runs"].size(), 6u);
  // The baseline measured once more at the end: the machine's own drift over the ladder.
  EXPECT_GT(j["ablation"]["baseline_again"]["time_per_image_s"].get<double>(), 0);
  EXPECT_NE(r.out.find("baseline measured again at the end"), std::string::npos) << r.out;
  EXPECT_EQ(j["runs"][1]["config"]["optimisations"]["freeze"], true);
  EXPECT_EQ(j["runs"][3]["config"]["optimisations"]["vae_tiling"]["tile"], 8);
  for (const auto& row : rows) {
    EXPECT_EQ(row["status"], "ok") << row.dump();
    EXPECT_GT(row["time_per_image_s"].get<double>(), 0);
    EXPECT_EQ(row["per_image_s"].size(), 4u);
    if (row["label"] != "baseline") {
      EXPECT_EQ(row["speedup"]["level"], 0.95);  // 4 against 4 reach it
    }
  }
  // Freezing and channels-last reorder arithmetic only: the images stay within rounding.
  for (int i : {1, 2}) {
    const auto& drift = rows[i]["drift"];
    ASSERT_EQ(drift["on"], "images");
    EXPECT_TRUE(drift["identical"].get<bool>() || drift["psnr_db"].get<double>() > 60) << drift.dump();
  }
  // One step instead of three changes the picture: marked.
  EXPECT_NE(rows[5]["verdict"].get<std::string>().find("changes results"), std::string::npos);
  EXPECT_NE(slurp(dir + "/a.md").find("| Configuration | Time / image |"), std::string::npos);
  const std::string csv = slurp(dir + "/a.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 7);
}

TEST(AblateCli, BadTogglesAndOptionsAreUsageErrorsBeforeAnyWork) {
  CliResult r = run_cli("ablate --unet " + kModels + "tiny.pt --toggles freez");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("did you mean 'freeze'"), std::string::npos) << r.err;
  r = run_cli("ablate --unet " + kModels + "tiny.pt --repeat 3");  // 3 vs 3: no 95% interval exists
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("error: ablate --repeat 3 gives no 95% interval for a speed-up; use --repeat 4 or more"),
            std::string::npos)
      << r.err;
  r = run_cli("ablate --unet " + kModels + "tiny.pt --vary-seed");
  EXPECT_EQ(r.code, 2);
  r = run_cli("ablate --unet " + kModels + "tiny.pt --fast lcm");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(AblateCli, AConfigurationThatCannotRunIsARowWithItsErrorAndTheRestIsKept) {
  const std::string dir = scratch_dir("ablate_fail");
  // tiny.pt has no VAE: the tiling toggle cannot run, the freeze row still is measured.
  CliResult r = run_cli("ablate --unet " + kModels +
                        "tiny.pt --threads 1 --warmup 0 --repeat 4 --steps 2 "
                        "--fast none --toggles freeze,vae-tiling=4 --json " +
                        dir + "/a.json");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("error: vae-tiling=4:1: --vae-tiling needs a VAE"), std::string::npos) << r.err;
  const auto j = nlohmann::json::parse(slurp(dir + "/a.json"));
  ASSERT_EQ(j["ablation"]["rows"].size(), 4u);
  EXPECT_EQ(j["ablation"]["rows"][1]["status"], "ok");
  EXPECT_EQ(j["ablation"]["rows"][2]["status"], "failed");
  EXPECT_EQ(j["ablation"]["rows"][3]["status"], "failed");  // "all" includes the tiling
}

}  // namespace
}  // namespace diffbench::testing

namespace diffbench::testing {
namespace {

// #41: on the default model the last rung is the LCM student at its manifest's step count (it was
// passed on as "lcm:0" and failed for any --steps).
TEST(AblateCli, TheDefaultFewStepRungIsTheLcmStudentAtItsOwnSteps) {
  const std::string dir = scratch_dir("ablate_default_fast");
  CliResult r = run_cli("ablate --toggles freeze --steps 2 --warmup 0 --repeat 4 --threads 1 -q --json " + dir +
                        "/a.json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = nlohmann::json::parse(slurp(dir + "/a.json"))["ablation"]["rows"];
  ASSERT_EQ(rows.size(), 3u);  // baseline, freeze, freeze + lcm:4
  EXPECT_EQ(rows[2]["label"], "freeze + lcm:4");
  EXPECT_EQ(rows[2]["status"], "ok") << rows[2].dump();
  EXPECT_EQ(rows[2]["steps"], 4);
}

}  // namespace
}  // namespace diffbench::testing
