// --quality fd end to end on digit models that the training scripts really train (their --quick
// modes, on the committed sample of digits: no network): the losses fall, the exported feature
// network gives the numbers Python computed, the statistics file is read and checked, and a real
// run of the binary reports FD with its interval and the real-data floor.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <ATen/ATen.h>

#include "cli_runner.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/files.h"
#include "diffbench/core/npy.h"
#include "diffbench/core/sha256.h"
#include "diffbench/models/model.h"
#include "diffbench/quality/quality.h"

using namespace diffbench;
using namespace diffbench::testing;

namespace {

// The quick models go to a scratch directory (DIFFBENCH_TRAIN_DATA), never the source tree.
const std::string kTrainData = "/tmp/diffbench_test_" + std::to_string(getpid()) + "_train";
const std::string kQuick = kTrainData + "/quick/";

// Train the three quick models (about 20 s on 2 cores). One test does it and then everything
// that needs them; ctest gives it the "training" lock, so no other training test shares the cores.
bool train_quick_models() {
  std::system(("rm -rf '" + kTrainData + "'").c_str());
  for (const char* stage : {"vae", "teacher", "classifier"}) {
    std::string cmd = "DIFFBENCH_TRAIN_DATA='" + kTrainData +
                      "' " DIFFBENCH_PYTHON " " DIFFBENCH_SOURCE_DIR "/scripts/train.py " + std::string(stage) +
                      " --quick > /dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) return false;
  }
  return true;
}

// Judged from the recorded loss curve, not the script's own "loss_fell": the last five logged
// losses average under half the first five.
void expect_loss_curve_fell(const std::string& name) {
  auto loss = nlohmann::json::parse(slurp(kQuick + name + "-loss.json"))["loss"].get<std::vector<double>>();
  ASSERT_GE(loss.size(), 10u) << name;
  double first = 0, last = 0;
  for (size_t i = 0; i < 5; ++i) first += loss[i], last += loss[loss.size() - 1 - i];
  EXPECT_LT(last, 0.5 * first) << name << ": first five " << first / 5 << ", last five " << last / 5;
}

// digit_features.npy: 4 held-out digits (1 x 32 x 32, flattened), then their features from Python.
void expect_python_features(const std::string& fixture, const std::string& model) {
  at::Tensor rows = from_npy(slurp(fixture), fixture);
  ASSERT_EQ(rows.size(1), 1024 + 128);
  ScriptModel features(model, ModelRole::features, {1}, c10::Device(c10::kCPU), at::kFloat);
  at::Tensor got = features.forward({rows.slice(1, 0, 1024).reshape({4, 1, 32, 32})});
  at::Tensor want = rows.slice(1, 1024);
  EXPECT_GT(want.abs().max().item<double>(), 0.1);  // real features, not zeros
  EXPECT_TRUE(at::allclose(got, want, 1e-4, 1e-4)) << (got - want).abs().max();
}

void check_training_and_features() {
  for (const char* name : {"vae", "teacher", "features"}) expect_loss_curve_fell(name);
  expect_python_features(kQuick + "digit_features.npy", kQuick + "features.pt");
  ReferenceStats stats = load_reference_stats(kQuick + "fd_stats.json");
  EXPECT_EQ(stats.moments.mean.numel(), 128);
  EXPECT_EQ(stats.feature_model_sha256, sha256_file(kQuick + "features.pt"));
  ASSERT_TRUE(floor_for(stats, 100).has_value());  // --quick measures the floor at n = 100 only
  EXPECT_FALSE(floor_for(stats, 100)->interpolated());
}

void check_a_real_run() {
  std::string dir = scratch_dir("quality_run");
  CliResult r = run_cli("--unet " + kQuick +
                        "unet.pt --warmup 0 --repeat 1 --threads 1 --sampler ddim --steps 4 "
                        "--timestep-spacing trailing --quality fd --samples 20 --json " +
                        dir + "/r.json --csv " + dir + "/r.csv --save-images " + dir + "/img");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("FD [95% CI]"), std::string::npos) << r.out;
  // 20 images, a floor measured at n = 100 only: said loudly, never printed as if comparable.
  EXPECT_NE(r.out.find("WARNING: the real-data floor was measured at n=100..100 only, not at this run's n=20"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("note: from the model's manifest"), std::string::npos) << r.err;
  auto doc = nlohmann::json::parse(slurp(dir + "/r.json"));
  const auto& run = doc["runs"][0];
  const auto& fd = run["fd"];
  EXPECT_EQ(fd["samples"], 20);
  EXPECT_GT(fd["value"].get<double>(), 0.0);
  EXPECT_LE(fd["ci_low"].get<double>(), fd["value"].get<double>());
  EXPECT_GE(fd["ci_high"].get<double>(), fd["value"].get<double>());
  EXPECT_GT(fd["per_image_s"].get<double>(), 0.0);
  EXPECT_TRUE(fd["floor"].is_null());
  EXPECT_EQ(run["config"]["cond"]["source"], kQuick + "cond.npy");  // from the manifest
  EXPECT_FALSE(doc["context"]["from_manifest"].empty());
  EXPECT_NE(slurp(dir + "/r.csv").find(",fd,fd_ci_low"), std::string::npos);
  EXPECT_EQ(slurp(dir + "/img/grid.png").substr(1, 3), "PNG");
  std::string check = DIFFBENCH_PYTHON " -c \"import json, jsonschema; jsonschema.validate(json.load(open('" + dir +
                      "/r.json')), json.load(open('" DIFFBENCH_SOURCE_DIR "/docs/diffbench.schema.json')))\"";
  EXPECT_EQ(std::system(check.c_str()), 0) << "schema validation failed";
  // The FD panels of plot.py draw from this real run (FD against steps and against time per image).
  std::string plot = DIFFBENCH_PYTHON " " DIFFBENCH_SOURCE_DIR "/scripts/plot.py " + dir + "/r.json -o " + dir +
                     "/fig --formats png > /dev/null 2>&1";
  EXPECT_EQ(std::system(plot.c_str()), 0) << plot;
  EXPECT_EQ(slurp(dir + "/fig.png").substr(1, 3), "PNG");
}

void check_refusals() {
  std::string dir = scratch_dir("quality_bad");
  auto stats = nlohmann::json::parse(slurp(kQuick + "fd_stats.json"));
  stats["feature_model_sha256"] = std::string(64, '0');
  write_file_atomically(dir + "/other.json", stats.dump());
  CliResult r = run_cli("--unet " + kQuick +
                        "unet.pt --warmup 0 --repeat 1 --threads 1 --sampler ddim --steps 2 "
                        "--quality fd --samples 10 --reference-stats " +
                        dir + "/other.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("another feature model"), std::string::npos) << r.err;
  // Copied without its features file, the statistics still serve FD; KID names the missing file.
  write_file_atomically(dir + "/copy.json", slurp(kQuick + "fd_stats.json"));
  ReferenceStats copy = load_reference_stats(dir + "/copy.json");
  EXPECT_FALSE(copy.features.defined());
  EXPECT_EQ(copy.moments.mean.numel(), load_reference_stats(kQuick + "fd_stats.json").moments.mean.numel());
  r = run_cli("--unet " + kQuick +
              "unet.pt --warmup 0 --repeat 1 --threads 1 --sampler ddim --steps 2 "
              "--quality fd,kid --samples 10 --reference-stats " +
              dir + "/copy.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("fd_stats-features.npy' (named by"), std::string::npos) << r.err;
  write_file_atomically(dir + "/bad.json", R"({"format": "something else"})");
  EXPECT_THROW(load_reference_stats(dir + "/bad.json"), UsageError);
}

}  // namespace

TEST(Quality, QuickTrainedDigitModelsEndToEnd) {
  ASSERT_TRUE(train_quick_models()) << "a --quick training script failed";
  check_training_and_features();
  check_a_real_run();
  check_refusals();
}

TEST(Quality, ShippedFeatureNetworkGivesPythonsFeatures) {
  // Written by `scripts/train.py classifier` when it trained models/digits/features.pt.
  expect_python_features(DIFFBENCH_SOURCE_DIR "/tests/data/digit_features.npy",
                         DIFFBENCH_SOURCE_DIR "/models/digits/features.pt");
}

TEST(Quality, UnknownMetricsAndMissingInputsAreUsageErrors) {
  // Each refusal with its own reason, not only its exit code.
  const std::pair<std::string, std::string> cases[] = {
      {"--quality fd", "--quality fd needs --feature-model FILE.pt and --reference-stats FILE.json"},
      {"--quality fid", "--quality 'fid': the quality figures are fd (Frechet distance), kid"},
      {"--samples 1", "--samples must be at least 2 (a covariance needs two), got 1"}};
  for (const auto& [flags, message] : cases) {
    CliResult r = run_cli(kTiny + "--sampler ddim " + flags);
    EXPECT_EQ(r.code, 2) << flags;
    EXPECT_EQ(r.err.rfind("error: " + message, 0), 0u) << flags << ": " << r.err;
  }
}
