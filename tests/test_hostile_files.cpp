// Hostile and corrupt files (#42): nesting deep enough to crash a recursive reader, a corrupt
// manifest beside a model, each refused in one line with a documented exit code, never a crash.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <string>

#include <fmt/format.h>

#include "cli_runner.h"
#include "diffbench/core/files.h"
#include "diffbench/core/json_depth.h"

using namespace diffbench;
using namespace diffbench::testing;

namespace {

std::string nested(int depth) { return std::string(depth, '[') + "1" + std::string(depth, ']'); }

void expect_one_error_line(const CliResult& r, int code, const std::string& says) {
  EXPECT_EQ(r.code, code) << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
}

}  // namespace

TEST(HostileFiles, NestingIsCountedOutsideStringsAndCappedAt64) {
  EXPECT_EQ(json_nesting_problem(nested(64)), "");
  EXPECT_NE(json_nesting_problem(nested(65)).find("nests deeper than 64 levels (at byte 64)"), std::string::npos);
  EXPECT_EQ(json_nesting_problem("{\"a\": \"" + std::string(1000, '[') + "\\\"\"}"), "");  // brackets in a string
}

TEST(HostileFiles, DeeplyNestedReportsGridsConfigsAndManifestsAreRefusedNotCrashed) {
  // 100,000 nested objects in a run's config segfaulted compare, merge, history and --resume.
  const std::string dir = scratch_dir("hostile_deep");
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  write_file_atomically(dir + "/deep.json", "{\"schema_version\": 2, \"kind\": \"run\", \"context\": {}, \"runs\": [{\"config\": " +
                                                deep + ", \"status\": \"ok\"}]}");
  const std::string says = "is not a diffbench report: it nests deeper than 64 levels";
  expect_one_error_line(run_cli("compare " + dir + "/deep.json " + dir + "/deep.json"), 1, says);
  expect_one_error_line(run_cli("merge " + dir + "/deep.json -o " + dir + "/m.json"), 1, says);
  expect_one_error_line(run_cli("history " + dir + "/deep.json " + dir + "/deep.json"), 1, says);
  expect_one_error_line(run_cli("sweep --unet " + kModels + "tiny.pt --sampler ddim --steps 2 --shape 1,4,8,8 --resume " +
                                dir + "/deep.json --json " + dir + "/s.json"),
                        1, says);
  write_file_atomically(dir + "/grid.json", "{\"sampler\": " + deep + "}");
  expect_one_error_line(run_cli("sweep --grid " + dir + "/grid.json"), 2, "nests deeper than 64 levels");
  write_file_atomically(dir + "/config.json", "{\"beta_schedule\": " + deep + "}");
  expect_one_error_line(run_cli("--unet " + kModels + "tiny.pt --sampler ddim --steps 2 --config " + dir + "/config.json"),
                        2, "nests deeper than 64 levels");
  // A manifest beside a model: the same limit, and a corrupt one is no longer ignored (#42: the
  // model ran at the default shape without a word).
  std::system(("mkdir -p " + dir + "/model && cp " + kData + "nan_after_500.pt " + dir + "/model/unet.pt").c_str());
  for (const auto& [text, want] : {std::pair<std::string, std::string>{"{\"steps\": " + deep + "}", "nests deeper than 64"},
                                   {"{\"sample_shape\": [1, 4,", "is not valid JSON"},
                                   {"[1, 4, 8, 8]", "is not an object"}}) {
    write_file_atomically(dir + "/model/diffbench.json", text);
    expect_one_error_line(run_cli("--unet " + dir + "/model/unet.pt --sampler ddim --steps 2 -q"), 1, want);
  }
}

TEST(HostileFiles, AVaesOutputIsCheckedForRankChannelsAndNan) {
  // #42: all-NaN images, 2 channels or rank 3 gave status ok, exit 0, and NaN PNGs.
  const std::string dir = scratch_dir("hostile_vae");
  const std::string run = "--unet " + kModels + "tiny.pt --threads 1 --sampler ddim --steps 2 --shape 1,4,8,8 -q ";
  for (const char* vae : {"vae_two_channels.pt", "vae_rank3.pt"}) {
    CliResult r = run_cli(run + "--vae " + kData + vae);
    expect_one_error_line(r, 1, "diffbench needs images [batch 1, 1, 3 or 4 channels, height, width]");
  }
  CliResult nan = run_cli(run + "--vae " + kData + "vae_nan.pt --json " + dir + "/r.json --save-images " + dir + "/img");
  EXPECT_EQ(nan.code, 1) << nan.err;
  const auto out = nlohmann::json::parse(slurp(dir + "/r.json"))["runs"][0];
  EXPECT_EQ(out["status"], "failed");
  EXPECT_EQ(out["failed_step"], 2);  // the decode after the last of 2 steps
  EXPECT_NE(out["error"].get<std::string>().find("the VAE decode gave NaN/Inf images"), std::string::npos) << out.dump();
  EXPECT_NE(std::system(("ls " + dir + "/img/*.png >/dev/null 2>&1").c_str()), 0);  // no NaN pictures written
}

TEST(HostileFiles, AGridNamesCellsNeverFilesAndAtMostAHundredThousand) {
  const std::string dir = scratch_dir("hostile_grid");
  // #42: a grid's json/csv/markdown keys wrote files wherever the grid said.
  for (const char* key : {"json", "csv", "markdown", "jsonl"}) {
    write_file_atomically(dir + "/g.json", fmt::format("{{\"sampler\": \"ddim\", \"{}\": \"/tmp/elsewhere\"}}", key));
    expect_one_error_line(run_cli("sweep --unet " + kModels + "tiny.pt --grid " + dir + "/g.json"), 2,
                          "names a file; a grid names cells, never files");
  }
  // 1000 step counts x 200 batches: 200,000 cells, refused at once (10^9 exhausted memory, 10^6 took 91 s).
  std::string steps, batches;
  for (int i = 1; i <= 1000; ++i) steps += (i > 1 ? "," : "") + std::to_string(i);
  for (int i = 1; i <= 200; ++i) batches += (i > 1 ? "," : "") + std::to_string(i);
  write_file_atomically(dir + "/big.json", "{\"sampler\": \"ddim\", \"steps\": [" + steps + "], \"batch\": [" + batches + "]}");
  const auto start = std::chrono::steady_clock::now();
  CliResult big = run_cli("sweep --unet " + kModels + "tiny.pt --grid " + dir + "/big.json --json " + dir + "/big-out.json");
  expect_one_error_line(big, 2, "the grid has 200000 cells (1 sampler(s) x 1000 step count(s) x 200 batch(es) x 1 shape(s)); "
                                "a sweep takes at most 100000");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 60.0);
}
