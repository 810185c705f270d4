// Paired quality differences and KID from the real binary on the shipped teacher: the JSON's
// "quality_pairs" (baseline and neighbour pairs, a cell against an identical cell exactly 0), the
// console table, schema validation, and each refusal's one line.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "diffbench/core/files.h"

namespace {

const std::string kTeacher = "--unet " DIFFBENCH_SOURCE_DIR "/models/digits/unet.pt --threads 1 --warmup 0 --repeat 1 ";

const nlohmann::json* find_pair(const nlohmann::json& pairs, const std::string& a, const std::string& b) {
  for (const auto& p : pairs) {
    if (p["a"] == a && p["b"] == b) return &p;
  }
  return nullptr;
}

}  // namespace

TEST(QualityPairs, SweepPairsCellsOnTheSameImages) {
  const std::string dir = scratch_dir("quality_pairs");
  // DDIM and DPM++ 2M at 2 and 4 steps, DDIM 4 the baseline (a cell against itself: Paired.*).
  CliResult r = run_cli("sweep " + kTeacher +
                        "--sampler ddim,dpmpp_2m --steps 2,4 --batch 10 --timestep-spacing trailing "
                        "--quality fd,kid --samples 20 --quality-baseline ddim:4 --json " +
                        dir + "/s.json --markdown " + dir + "/s.md");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("FD a - b [95% CI]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("KID [95% CI]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("its expectation for real data is 0"), std::string::npos) << r.out;
  EXPECT_NE(diffbench::read_file(dir + "/s.md", "markdown").find("| a | b | FD a - b [95% CI]"), std::string::npos);
  auto doc = nlohmann::json::parse(slurp(dir + "/s.json"));
  const auto& pairs = doc["quality_pairs"];
  // Against the baseline: ddim:2, dpmpp_2m:2, dpmpp_2m:4; neighbours: dpmpp_2m 2 -> 4 (ddim 2 -> 4
  // is the baseline pair already).
  ASSERT_EQ(pairs.size(), 4u) << pairs.dump(1);
  const nlohmann::json* two = find_pair(pairs, "ddim:2", "ddim:4");
  ASSERT_NE(two, nullptr);
  EXPECT_EQ((*two)["kind"], "baseline");
  const auto& fd = (*two)["fd"];
  EXPECT_LE(fd["ci_low"].get<double>(), fd["difference"].get<double>());
  EXPECT_GE(fd["ci_high"].get<double>(), fd["difference"].get<double>());
  EXPECT_NEAR(fd["difference"].get<double>(), fd["a"].get<double>() - fd["b"].get<double>(), 1e-9);
  // Each side's figure is the cell's own FD in "runs".
  for (const auto& run : doc["runs"]) {
    if (run["config"]["sampler"] == "ddim" && run["config"]["steps"] == 4) {
      EXPECT_DOUBLE_EQ(run["fd"]["value"].get<double>(), fd["b"].get<double>());
    }
  }
  EXPECT_FALSE((*two)["kid"].is_null());
  EXPECT_GT((*two)["unpaired_half_width"].get<double>(), 0.0);
  const nlohmann::json* neighbour = find_pair(pairs, "dpmpp_2m:2", "dpmpp_2m:4");
  ASSERT_NE(neighbour, nullptr);
  EXPECT_EQ((*neighbour)["kind"], "neighbour");
  EXPECT_NE(doc["runs"][0]["fd"]["kid"], nullptr);
  std::string check = DIFFBENCH_PYTHON " -c \"import json, jsonschema; jsonschema.validate(json.load(open('" + dir +
                      "/s.json')), json.load(open('" DIFFBENCH_SOURCE_DIR "/docs/diffbench.schema.json')))\"";
  EXPECT_EQ(std::system(check.c_str()), 0) << "schema validation failed";
}

TEST(QualityPairs, RefusalsSayWhatToDo) {
  const std::string dir = scratch_dir("quality_pairs_bad");
  auto stats = nlohmann::json::parse(slurp(DIFFBENCH_SOURCE_DIR "/models/digits/fd_stats.json"));
  stats.erase("features_file");
  diffbench::write_file_atomically(dir + "/no_features.json", stats.dump());
  const std::string sweep = "sweep " + kTeacher + "--sampler ddim --steps 2,4 --json " + dir + "/a.json ";
  const std::pair<std::string, std::string> cases[] = {
      {sweep + "--quality-baseline ddim:2", "--quality-baseline compares quality figures: add --quality fd"},
      {sweep + "--quality fd --quality-baseline ddim:8",
       "--quality-baseline ddim:8 is not a cell of this sweep (ddim:2, ddim:4); add it with --cell ddim:8"},
      {sweep + "--quality fd --quality-margin -1", "--quality-margin must be >= 0"},
      {kTeacher + "--sampler ddim --steps 2 --quality fd,fd_inf --samples 100", "--quality fd_inf fits FD on subsets"},
      {kTeacher + "--sampler ddim --steps 2 --quality kid --reference-stats " + dir + "/no_features.json",
       "--quality kid needs the reference images' features"},
  };
  for (const auto& [flags, message] : cases) {
    CliResult r = run_cli(flags);
    EXPECT_EQ(r.code, 2) << flags;
    EXPECT_EQ(r.err.find("error: " + message), r.err.find("error: ")) << flags << ": " << r.err;
    EXPECT_NE(r.err.find("error: " + message), std::string::npos) << flags << ": " << r.err;
  }
}
