// Sweeps: grid expansion, interruption and --resume, shards that merge to the full set,
// compare as a regression gate, and plot.py on a real sweep file.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>
#include <set>

#include "cli_runner.h"
#include "diffbench/gate/compare.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/files.h"
#include "diffbench/plans/sweep.h"
#include "diffbench/gate/rank_tests.h"

using namespace diffbench;
using namespace diffbench::testing;

namespace {

std::set<std::string> cell_keys(const std::string& path) {
  std::set<std::string> keys;
  for (const auto& run : read_report(path).runs) keys.insert(cell_key(run["config"]));
  return keys;
}

// A synthetic report whose total_s samples are given.
nlohmann::json synthetic(const std::vector<std::vector<double>>& totals, int threads = 2) {
  nlohmann::json runs = nlohmann::json::array();
  for (size_t i = 0; i < totals.size(); ++i) {
    nlohmann::json reps = nlohmann::json::array();
    for (double t : totals[i]) reps.push_back({{"total_s", t}});
    runs.push_back({{"config", {{"sampler", "ddim"}, {"steps", int(10 + i)}, {"shape", {1, 4, 8, 8}}, {"seed", 0}}},
                    {"status", "ok"},
                    {"repeats", reps},
                    {"stats", {{"total_s", {{"samples", totals[i]}}}}}});
  }
  return {{"schema_version", 1}, {"context", {{"threads", threads}, {"device", "cpu"}}}, {"runs", runs}};
}

}  // namespace

TEST(Sweep, GridExpandsToTheCartesianProduct) {
  auto cells = expand_grid({"ddim", "lcm"}, {1, 4}, {1, 3}, {{2, 4, 8, 8}});
  ASSERT_EQ(cells.size(), 8u);  // 1 shape x 2 batches x 2 samplers x 2 steps
  EXPECT_EQ(cells[0].sampler, "ddim");
  EXPECT_EQ(cells[0].steps, 1);
  EXPECT_EQ(cells[0].shape, (std::vector<int64_t>{1, 4, 8, 8}));  // batch replaced B
  EXPECT_EQ(cells[1].steps, 4);
  EXPECT_EQ(cells[2].sampler, "lcm");
  EXPECT_EQ(cells[4].shape[0], 3);
  auto defaults = expand_grid({"ddpm", "turbo"}, {}, {}, {});
  ASSERT_EQ(defaults.size(), 2u);
  EXPECT_FALSE(defaults[0].steps.has_value());  // each sampler's own default
  EXPECT_TRUE(defaults[0].shape.empty());
}

TEST(Sweep, ShardsPartitionTheCellsBalancedByCost) {
  // The lecture grid's step counts: DDPM's 1000 steps alone on one shard, the rest on the other
  // (index sharding, i % 2, would put DDPM with DPM++, LCM, LCM 8 and DDIM 1 and leave the other idle).
  const std::vector<int> steps = {1000, 50, 20, 25, 4, 1, 8, 4, 1};
  std::vector<double> costs;
  for (int s : steps) costs.push_back(cell_cost(s, {50, 4, 8, 8}, 4, false, 1000));
  const std::vector<int> two = assign_shards(costs, 2);
  EXPECT_EQ(two[0], 0);
  for (size_t i = 1; i < two.size(); ++i) EXPECT_EQ(two[i], 1) << i;
  // Equal cells spread evenly, every cell exactly once, the same answer every time.
  const std::vector<int> three = assign_shards(std::vector<double>(10, 1.0), 3);
  std::vector<int> per_shard(3, 0);
  for (int s : three) ++per_shard[static_cast<size_t>(s)];
  EXPECT_EQ(per_shard, (std::vector<int>{4, 3, 3}));
  EXPECT_EQ(three, assign_shards(std::vector<double>(10, 1.0), 3));
  // Greedy longest-first: {7, 5, 4, 3, 3, 2} on 2 shards -> 12 and 12.
  const std::vector<int> g = assign_shards({3, 7, 2, 5, 4, 3}, 2);
  double load0 = 0, load1 = 0;
  const double c[] = {3, 7, 2, 5, 4, 3};
  for (size_t i = 0; i < g.size(); ++i) (g[i] == 0 ? load0 : load1) += c[i];
  EXPECT_EQ(load0, 12);
  EXPECT_EQ(load1, 12);
  // The cost counts steps, every latent element, guidance and FD images.
  EXPECT_EQ(cell_cost(10, {2, 4, 8, 8}, 3, false, 0), 10.0 * 256 * 6);
  EXPECT_EQ(cell_cost(10, {2, 4, 8, 8}, 3, true, 0), 2 * 10.0 * 256 * 6);
  EXPECT_EQ(cell_cost(10, {2, 4, 8, 8}, 3, false, 100), 10.0 * 256 * (6 + 100));
  EXPECT_THROW(parse_shard("3/3"), UsageError);
  EXPECT_THROW(parse_shard("1-3"), UsageError);
  EXPECT_EQ(parse_shard("2/5"), (std::pair<int, int>{2, 5}));
}

TEST(Sweep, GridFileSetsFlagsAndTheCommandLineOverridesIt) {
  std::string dir = scratch_dir("grid");
  write_file_atomically(
      dir + "/g.json",
      R"({"description": "x", "sampler": ["ddim", "euler"], "steps": [2, 3], "seed": 9, "karras": true})");
  CliResult r = run_cli(kSweep + "--grid " + dir + "/g.json --steps 4 --json " + dir + "/r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto runs = nlohmann::json::parse(slurp(dir + "/r.json"))["runs"];
  ASSERT_EQ(runs.size(), 2u);  // --steps 4 on the command line replaced [2, 3]
  EXPECT_EQ(runs[0]["config"]["steps"], 4);
  EXPECT_EQ(runs[0]["config"]["seed"], 9);
  EXPECT_EQ(runs[1]["config"]["scheduler_config"]["use_karras_sigmas"], true);
  write_file_atomically(dir + "/bad.json", R"({"frobnicate": 1})");
  CliResult bad = run_cli(kSweep + "--grid " + dir + "/bad.json --json " + dir + "/x.json");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--frobnicate"), std::string::npos) << bad.err;
}

TEST(Sweep, ShardsRunAsSeparateProcessesMergeToTheFullSet) {
  std::string dir = scratch_dir("shards");
  std::string grid = "--sampler ddim,euler_a,lcm --steps 1,2,3 ";
  ASSERT_EQ(run_cli(kSweep + grid + "--json " + dir + "/all.json").code, 0);
  std::string shard_files;
  for (int i = 0; i < 3; ++i) {
    std::string f = dir + "/shard" + std::to_string(i) + ".jsonl";
    CliResult r = run_cli(kSweep + grid + "--shard " + std::to_string(i) + "/3 --jsonl " + f);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(read_report(f).runs.size(), 3u);
    shard_files += f + " ";
  }
  CliResult merged = run_cli("merge " + shard_files + "-o " + dir + "/merged.json");
  ASSERT_EQ(merged.code, 0) << merged.err;
  EXPECT_EQ(cell_keys(dir + "/merged.json"), cell_keys(dir + "/all.json"));
  // A shard left out (issue #22): its cells are named, and the merge is refused unless asked.
  CliResult partial = run_cli("merge " + dir + "/shard0.jsonl " + dir + "/shard1.jsonl -o " + dir + "/p.json");
  EXPECT_EQ(partial.code, 2) << partial.err;
  EXPECT_NE(partial.err.find("3 cell(s) of the grid are in no input file"), std::string::npos) << partial.err;
  EXPECT_NE(partial.err.find("--allow-missing"), std::string::npos) << partial.err;
  EXPECT_TRUE(slurp(dir + "/p.json").empty());
  ASSERT_EQ(
      run_cli("merge --allow-missing " + dir + "/shard0.jsonl " + dir + "/shard1.jsonl -o " + dir + "/p.json").code, 0);
  auto p = nlohmann::json::parse(slurp(dir + "/p.json"));
  EXPECT_EQ(p["runs"].size(), 6u);
  EXPECT_EQ(p["missing_cells"].size(), 3u);
  // Refusals: duplicates, different models (unless --force).
  EXPECT_EQ(run_cli("merge " + dir + "/shard0.jsonl " + dir + "/shard0.jsonl -o " + dir + "/d.json").code, 2);
  EXPECT_EQ(run_cli("merge --force " + dir + "/shard0.jsonl " + dir + "/shard0.jsonl -o " + dir + "/d.json").code, 0);
  ASSERT_EQ(
      run_cli(kSweep + "--unet " + kModels + "gaussian.pt --sampler ddim --steps 7 --json " + dir + "/g.json").code, 0);
  CliResult models = run_cli("merge " + dir + "/shard0.jsonl " + dir + "/g.json -o " + dir + "/m.json");
  EXPECT_EQ(models.code, 2);
  EXPECT_NE(models.err.find("different UNet"), std::string::npos) << models.err;
}

TEST(Sweep, CompareExactMannWhitneyPValues) {
  // 3 vs 3, complete separation: U = 0 of C(6,3) = 20 arrangements, one-sided 1/20.
  EXPECT_DOUBLE_EQ(mann_whitney_tails({1, 2, 3}, {4, 5, 6}).greater, 1.0 / 20);
  EXPECT_DOUBLE_EQ(mann_whitney_min_p(5, 5), 1.0 / 252);  // one-sided
  EXPECT_DOUBLE_EQ(mann_whitney_tails({1, 3, 5}, {2, 4, 6}).greater, 7.0 / 20);  // U = 3: P(U <= 3) = 7/20
  EXPECT_GE(mann_whitney_tails({1, 2}, {1, 2}).greater, 0.5);  // ties: normal approximation, no evidence
  EXPECT_GE(mann_whitney_tails({1, 2}, {1, 2}).less, 0.5);
}

TEST(Sweep, CompareIdenticalInputsExitZero) {
  std::string dir = scratch_dir("cmp_same");
  write_file_atomically(dir + "/a.json", synthetic({{1, 1.1, 0.9, 1.05, 0.95}}).dump());
  CliResult r = run_cli("compare " + dir + "/a.json " + dir + "/a.json --json " + dir + "/c.json");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("no change"), std::string::npos);
  // Not only the exit code: the file against itself is a change of exactly 0, decided, one cell.
  auto c = nlohmann::json::parse(slurp(dir + "/c.json"));
  ASSERT_EQ(c["runs"].size(), 1u);
  EXPECT_EQ(c["runs"][0]["metrics"][0]["change"], 0.0);
  EXPECT_EQ(c["runs"][0]["metrics"][0]["verdict"], "no change");
  EXPECT_EQ(c["decided"], true);
  EXPECT_EQ(c["geomean_ratio"], 1.0);
}

TEST(Sweep, CompareTwoSamplesOfTheSameDistributionExitZero) {
  std::string dir = scratch_dir("cmp_dist");
  std::mt19937 rng(4);
  std::normal_distribution<double> noise(0.100, 0.004);
  std::vector<std::vector<double>> a(4), b(4);
  for (int run = 0; run < 4; ++run) {
    for (int i = 0; i < 7; ++i) a[run].push_back(noise(rng)), b[run].push_back(noise(rng));
  }
  write_file_atomically(dir + "/a.json", synthetic(a).dump());
  write_file_atomically(dir + "/b.json", synthetic(b).dump());
  EXPECT_EQ(run_cli("compare " + dir + "/a.json " + dir + "/b.json").code, 0);
}

TEST(Sweep, PlotDrawsAnImageFromARealSweep) {
  std::string dir = scratch_dir("plot");
  ASSERT_EQ(
      run_cli(kSweep + "--unet " + kModels +
              "gaussian.pt --sampler ddim,dpmpp_2m --steps 2,8 --reference dpmpp_2m:50 --jsonl " + dir + "/s.jsonl")
          .code,
      0);
  std::string cmd =
      DIFFBENCH_PYTHON " " DIFFBENCH_SOURCE_DIR "/scripts/plot.py " + dir + "/s.jsonl -o " + dir + "/fig > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(slurp(dir + "/fig.png").substr(1, 3), "PNG");
  EXPECT_NE(slurp(dir + "/fig.svg").find("<svg"), std::string::npos);
}

TEST(Sweep, SpeedUpAgainstTheOneDdpmCellAndNoneWhenThereAreSeveral) {
  std::string dir = scratch_dir("sweep_speedup");
  CliResult r =
      run_cli(kSweep + "--sampler ddpm,ddim --steps 4 --jsonl " + dir + "/a.jsonl --markdown " + dir + "/a.md");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(slurp(dir + "/a.md").find("Speed-up"), std::string::npos) << slurp(dir + "/a.md");
  EXPECT_NE(slurp(dir + "/a.md").find("| ddpm | 4 |"), std::string::npos);
  r = run_cli(kSweep + "--sampler ddpm,ddim --steps 2,4 --jsonl " + dir + "/b.jsonl --markdown " + dir + "/b.md");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(slurp(dir + "/b.md").find("Speed-up"), std::string::npos) << slurp(dir + "/b.md");
}
