// The distilled students on the real binary: their manifests are honoured, the lecture's table runs
// each sampler on the model it belongs to, --model-for maps a sampler to a model, each model file is
// loaded once, and a small --quality fd run ranks one Turbo step far above one teacher DDIM step.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>

#include "cli_runner.h"
#include "diffbench/report/tables.h"

using namespace diffbench::testing;

namespace {

const std::string kStudentDir = kModels + "digits/";
const std::string kOnceFast = " --warmup 0 --repeat 1 --threads 1 ";

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

bool path_ends_with(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

TEST(Students, LcmStudentAlonePicksItsSamplerStepsAndConfigAndSaysSo) {
  std::string dir = scratch_dir("lcm_alone");
  CliResult r = run_cli("--unet " + kStudentDir + "lcm.pt" + kOnceFast + "--json " + dir + "/r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  // The guidance scale is said where resolve() decides it, with the other per-run values.
  EXPECT_NE(r.err.find("lcm.pt: from its manifest: sampler lcm, 4 steps for lcm, scheduler config "
                       "configs/lcm-sd15.json, guidance_scale=1 (flags override)"),
            std::string::npos)
      << r.err;
  auto runs = nlohmann::json::parse(slurp(dir + "/r.json"))["runs"];
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["config"]["sampler"], "lcm");
  EXPECT_EQ(runs[0]["config"]["steps"], 4);
  EXPECT_EQ(runs[0]["timesteps"], nlohmann::json({999, 759, 499, 259}));  // LCMScheduler's, from the 50-step grid
  const auto from_manifest = nlohmann::json::parse(slurp(dir + "/r.json"))["context"]["from_manifest"].dump();
  EXPECT_NE(from_manifest.find("4 steps for lcm"), std::string::npos) << from_manifest;  // the JSON says it too
}

// A model named alone runs its manifest's sampler, so --steps alone is that sampler's (#41); with the
// lecture's six samplers, each at its own default, --steps alone belongs to none and is refused.
TEST(Students, StepsAloneAreTheManifestSamplersAndRefusedForTheLectureTable) {
  std::string dir = scratch_dir("lcm_steps_alone");
  CliResult r = run_cli("--unet " + kStudentDir + "lcm.pt --steps 2" + kOnceFast + "-q --json " + dir + "/r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto config = nlohmann::json::parse(slurp(dir + "/r.json"))["runs"][0]["config"];
  EXPECT_EQ(config["sampler"], "lcm");
  EXPECT_EQ(config["steps"], 2);
  r = run_cli("--steps 2" + kOnceFast + "-q");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(r.err.rfind("error: --steps needs --sampler: with no --sampler the lecture's six", 0), 0u) << r.err;
}

TEST(Students, FlagsOverrideTheStudentsManifest) {
  std::string dir = scratch_dir("lcm_flags");
  CliResult r =
      run_cli("--unet " + kStudentDir + "lcm.pt --sampler lcm --steps 2" + kOnceFast + "--json " + dir + "/a.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("from its manifest: scheduler config"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("4 steps"), std::string::npos) << r.err;
  EXPECT_EQ(nlohmann::json::parse(slurp(dir + "/a.json"))["runs"][0]["config"]["steps"], 2);
  r = run_cli("--unet " + kStudentDir + "lcm.pt --sampler ddim --steps 3" + kOnceFast + "--json " + dir + "/b.json");
  ASSERT_EQ(r.code, 0) << r.err;
  // Another sampler: the manifest's steps are lcm's, not its; the scheduler config is the model's.
  EXPECT_EQ(r.err.find("steps for"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("scheduler config configs/lcm-sd15.json"), std::string::npos) << r.err;
  auto run = nlohmann::json::parse(slurp(dir + "/b.json"))["runs"][0];
  EXPECT_EQ(run["config"]["sampler"], "ddim");
  EXPECT_EQ(run["config"]["steps"], 3);
}

TEST(Students, TurboStudentAloneRunsOneTrailingStep) {
  std::string dir = scratch_dir("turbo_alone");
  CliResult r = run_cli("--unet " + kStudentDir + "turbo.pt" + kOnceFast + "--json " + dir + "/r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto run = nlohmann::json::parse(slurp(dir + "/r.json"))["runs"][0];
  EXPECT_EQ(run["config"]["sampler"], "turbo");
  EXPECT_EQ(run["config"]["steps"], 1);
  EXPECT_EQ(run["timesteps"], nlohmann::json({999}));
}

TEST(Students, BareRunPutsLcmAndTurboOnTheirStudentsAndTheRestOnTheTeacher) {
  std::string dir = scratch_dir("bare");
  CliResult r = run_cli(kOnceFast + "--json " + dir + "/r.json --markdown " + dir + "/t.md");
  ASSERT_EQ(r.code, 0) << r.err;
  auto runs = nlohmann::json::parse(slurp(dir + "/r.json"))["runs"];
  ASSERT_EQ(runs.size(), 6u);
  for (const auto& run : runs) {
    std::string sampler = run["config"]["sampler"], unet = run["config"]["unet"];
    std::string expected = sampler == "lcm"     ? "digits/lcm.pt"
                           : sampler == "turbo" ? "digits/turbo.pt"
                                                : "digits/unet.pt";
    EXPECT_TRUE(path_ends_with(unet, expected)) << sampler << " ran on " << unet;
  }
  EXPECT_NE(slurp(dir + "/t.md").find("| lcm | lcm.pt | 4 |"), std::string::npos) << slurp(dir + "/t.md");
  EXPECT_NE(r.err.find("lcm on "), std::string::npos) << r.err;  // said, with how to change it
  EXPECT_NE(r.err.find("--model-for overrides"), std::string::npos) << r.err;
}

TEST(Students, ARoutedSamplersColdForwardIsTheStudentsOwnInTheTableAsInTheJson) {
  std::string dir = scratch_dir("routed_cold");
  CliResult r = run_cli("--sampler lcm" + kOnceFast + "--json " + dir + "/r.json");  // lcm runs on lcm.pt
  ASSERT_EQ(r.code, 0) << r.err;
  const auto run = nlohmann::json::parse(slurp(dir + "/r.json"))["runs"][0];
  ASSERT_TRUE(path_ends_with(run["config"]["unet"], "digits/lcm.pt"));
  const double cold = run["cold_forward_s"];
  EXPECT_GT(cold, 0);
  EXPECT_NE(r.out.find("first (cold) forward " + diffbench::format_seconds(cold) + ":"), std::string::npos) << r.out;
}

TEST(Students, NamingAUnetRunsEverySamplerOnItUnlessModelForSaysOtherwise) {
  std::string dir = scratch_dir("named");
  CliResult r = run_cli("--unet " + kStudentDir + "unet.pt --sampler lcm" + kOnceFast + "--json " + dir + "/a.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(
      path_ends_with(nlohmann::json::parse(slurp(dir + "/a.json"))["runs"][0]["config"]["unet"], "digits/unet.pt"));
  r = run_cli("--unet " + kStudentDir + "unet.pt --sampler lcm --model-for lcm=" + kStudentDir + "lcm.pt" + kOnceFast +
              "--json " + dir + "/b.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(
      path_ends_with(nlohmann::json::parse(slurp(dir + "/b.json"))["runs"][0]["config"]["unet"], "digits/lcm.pt"));
}

TEST(Students, ModelForMistakesAreUsageErrors) {
  for (const char* bad : {"lcm", "=x.pt", "lcm=", "lcn=x.pt"}) {
    CliResult r = run_cli(kTiny + "--sampler ddim --steps 2 --model-for " + std::string(bad));
    EXPECT_EQ(r.code, 2) << bad << ": " << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  }
  CliResult r = run_cli(kTiny + "--sampler ddim --model-for lcm=a.pt,lcm=b.pt");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("names lcm twice"), std::string::npos) << r.err;
  r = run_cli(kTiny + "--sampler lcm --model-for lcm=/nonexistent/lcm.pt");
  EXPECT_EQ(r.code, 2);  // a path that names no file: the command must change
  EXPECT_NE(r.err.find("/nonexistent/lcm.pt"), std::string::npos) << r.err;
}

TEST(Students, SweepGridNamesAModelPerCellAndLoadsEachFileOnce) {
  std::string dir = scratch_dir("sweep_models");
  CliResult r = run_cli("sweep --sampler lcm,ddim,turbo --steps 1,2" + kOnceFast + "--model-for lcm=" + kStudentDir +
                        "lcm.pt,turbo=" + kStudentDir + "turbo.pt --jsonl " + dir + "/r.jsonl");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(occurrences(r.err, "note: from the model's manifest (" + kStudentDir + "lcm.pt)"), 1u) << r.err;
  EXPECT_EQ(occurrences(r.err, "note: from the model's manifest (" + kStudentDir + "turbo.pt)"), 1u) << r.err;
  size_t lines = 0;
  std::istringstream in(slurp(dir + "/r.jsonl"));
  for (std::string line; std::getline(in, line);) {  // one document per line, one run each
    const auto doc = nlohmann::json::parse(line);
    for (const auto& run : doc["runs"]) {
      ++lines;
      std::string sampler = run["config"]["sampler"], unet = run["config"]["unet"];
      EXPECT_TRUE(path_ends_with(unet, sampler == "ddim" ? "unet.pt" : sampler + ".pt"))
          << sampler << " ran on " << unet;
    }
  }
  EXPECT_EQ(lines, 6u);
}

TEST(Students, OneTurboStepDrawsFarBetterDigitsThanOneTeacherDdimStep) {
  // 200 images each: FD's small-sample bias is the same for both, and the measured gap (the
  // teacher's one DDIM step ~620, Turbo's one step under 100 at n = 1000) is far beyond it.
  std::string dir = scratch_dir("turbo_fd");
  CliResult r = run_cli("sweep --sampler ddim,turbo --steps 1 --quality fd --samples 200" + kOnceFast + "--jsonl " +
                        dir + "/r.jsonl");
  ASSERT_EQ(r.code, 0) << r.err;
  double ddim = 0, turbo = 0;
  std::istringstream in(slurp(dir + "/r.jsonl"));
  for (std::string line; std::getline(in, line);) {
    const auto doc = nlohmann::json::parse(line);
    for (const auto& run : doc["runs"]) {
      if (run["fd"].is_null()) continue;
      if (run["config"]["sampler"] == "turbo") turbo = run["fd"]["ci_high"].get<double>();
      if (run["config"]["sampler"] == "ddim") ddim = run["fd"]["ci_low"].get<double>();
    }
  }
  ASSERT_GT(ddim, 0);
  ASSERT_GT(turbo, 0);
  EXPECT_LT(3 * turbo, ddim) << "Turbo-1 FD upper bound " << turbo << " vs teacher DDIM-1 lower bound " << ddim;
}

TEST(Students, AConfigThatContradictsTheModelIsRefusedInOneLine) {
  CliResult r =
      run_cli("--unet " + kStudentDir + "unet.pt --sampler ddim --steps 2 --prediction-type v_prediction" + kOnceFast);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("predicts epsilon (its manifest), but --prediction-type says prediction_type v_prediction"),
            std::string::npos)
      << r.err;
  r = run_cli("--unet " + kStudentDir + "lcm.pt --num-train-timesteps 500" + kOnceFast);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("was trained on 1000 timesteps"), std::string::npos) << r.err;
  const size_t error = r.err.find("error: ");  // after the manifest's note, one line
  ASSERT_NE(error, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n', error), r.err.size() - 1) << "one line: " << r.err;
  r = run_cli("--unet " + kStudentDir + "unet.pt --sampler ddim --steps 2 --shape 10,3,8,8" + kOnceFast);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("takes latents with 4 channels (its manifest's sample_shape), but --shape gives 3"),
            std::string::npos)
      << r.err;
}

TEST(Students, ModelFolderMistakesAreUsageErrors) {
  std::string dir = scratch_dir("model_dir");
  CliResult r = run_cli("--model " + dir + " --sampler ddim --steps 2" + kOnceFast);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("has no unet.pt: give a folder written by scripts/export_diffusers.py"), std::string::npos)
      << r.err;
  r = run_cli("--model " + kStudentDir + " --unet " + kModels + "tiny.pt --sampler ddim --steps 2" + kOnceFast);
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("give --model DIR or --unet FILE, not both"), std::string::npos) << r.err;
  r = run_cli("--model " + kStudentDir + " --sampler ddim --steps 2" + kOnceFast + "-q");  // a folder with unet.pt
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST(Students, AManifestBesideTheUnetFileCountsWhenNoneIsInside) {
  std::string dir = scratch_dir("beside");
  std::string make = DIFFBENCH_PYTHON " -c \"import torch; torch.jit.save(torch.jit.load('" + kModels + "tiny.pt'), '" +
                     dir + "/unet.pt')\" && echo '{\"sample_shape\": [3, 4, 8, 8]}' > " + dir + "/diffbench.json";
  ASSERT_EQ(std::system(make.c_str()), 0);
  CliResult r = run_cli("--model " + dir + " --sampler ddim --steps 2" + kOnceFast + "-q --json " + dir + "/r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(slurp(dir + "/r.json"))["runs"][0]["config"]["shape"], nlohmann::json({3, 4, 8, 8}));
}
