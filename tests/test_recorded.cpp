// What is recorded is what ran, and the errors and conveniences a user expects: each test here was
// an example of a defect found by trying diffbench as a new user would.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "diffbench/core/files.h"
#include "diffbench/measure/process_info.h"
#include "diffbench/schedule/sampler.h"
#include "diffbench/samplers/registry.h"

using namespace diffbench;
using namespace diffbench::testing;

namespace {

nlohmann::json run_json(const std::string& args) {
  CliResult r = run_cli(kTiny + args + " --json -");
  EXPECT_EQ(r.code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

}  // namespace

TEST(Recorded, TurboRecordsTheTrailingSpacingItRuns) {
  auto j = run_json("--sampler turbo");
  EXPECT_EQ(j["runs"][0]["config"]["scheduler_config"]["timestep_spacing"], "trailing");  // before: "leading"
  EXPECT_EQ(j["runs"][0]["timesteps"][0], 999);
  CliResult s = run_cli("schedule --sampler turbo");
  ASSERT_EQ(s.code, 0);
  EXPECT_EQ(nlohmann::json::parse(s.out)["scheduler_config"]["timestep_spacing"], "trailing");
}

TEST(Recorded, AFirstTimestepFarFromTIsNotedAndTheQualityGridIsTrailing) {
  auto j = run_json("--sampler ddim --steps 1");
  ASSERT_EQ(j["runs"][0]["notes"].size(), 1u);
  EXPECT_NE(j["runs"][0]["notes"][0].get<std::string>().find("the first timestep is t=1 of 999"), std::string::npos);
  EXPECT_TRUE(run_json("--sampler ddim --steps 20")["runs"][0]["notes"].empty());
  auto grid = nlohmann::json::parse(slurp(DIFFBENCH_SOURCE_DIR "/configs/sweeps/steps-vs-quality.json"));
  EXPECT_EQ(grid["timestep_spacing"], "trailing");
}

TEST(Recorded, EachCellHasItsOwnPeakMemoryAndTheColdForwardOnlyOnce) {
  std::string dir = scratch_dir("rec_memory");
  // A large cell first, then a small one: the small cell must not inherit the large one's peak.
  CliResult r = run_cli("sweep --unet " + kModels +
                        "tiny.pt --warmup 0 --repeat 1 --threads 1 -q --sampler ddim "
                        "--steps 2 --shape 16,4,64,64 --shape 1,4,8,8 --json " +
                        dir + "/s.json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto doc = nlohmann::json::parse(slurp(dir + "/s.json"));
  const auto& big = doc["runs"][0];
  const auto& small = doc["runs"][1];
  ASSERT_EQ(small["memory"]["peak_rss_scope"], "run");
  EXPECT_LT(small["memory"]["peak_rss_bytes"].get<int64_t>(), big["memory"]["peak_rss_bytes"].get<int64_t>());
  EXPECT_TRUE(big["cold_forward_s"].is_number());
  EXPECT_TRUE(small["cold_forward_s"].is_null());  // before: copied into every cell
  EXPECT_TRUE(doc["context"]["process"]["cold_forward_s"].is_number());
  EXPECT_GE(big["cpu_time_s"]["user"].get<double>(), 0.0);
}

TEST(Recorded, ItersPerSecondLeaveOutTheVaeDecode) {
  auto j = run_json("--sampler ddim --steps 4 --repeat 3 --vae " + kModels + "vae_tiny.pt --shape 1,4,8,8");
  const auto& run = j["runs"][0];
  std::vector<double> steps_time;
  for (const auto& rep : run["repeats"]) {
    double t = 0;
    for (double s : rep["step_s"]) t += s;
    steps_time.push_back(t);
  }
  std::sort(steps_time.begin(), steps_time.end());
  EXPECT_NEAR(run["throughput"]["steps_per_s"].get<double>(), 4 / steps_time[1], 1e-6);  // median of 3
}

TEST(Recorded, SeedsOutOfRangeAndEtaOutOfRangeAreUsageErrors) {
  for (const char* bad : {"--seed -1", "--seed 18446744073709551616", "--seed 1e3", "--eta 5", "--eta -0.1"}) {
    CliResult r = run_cli(kTiny + "--sampler ddim --steps 2 " + bad);
    EXPECT_EQ(r.code, 2) << bad << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  EXPECT_EQ(
      run_json("--sampler ddim --steps 2 --seed 18446744073709551615")["runs"][0]["config"]["seed"].get<uint64_t>(),
      18446744073709551615ull);
  EXPECT_EQ(run_cli(kTiny + "--sampler ddim --steps 2 --eta 1").code, 0);
}

TEST(Recorded, TheCommandLineAndCpuTimeAreInTheReport) {
  auto j = run_json("--sampler ddim --steps 2");
  const auto& argv = j["context"]["command_line"];
  ASSERT_GE(argv.size(), 3u);
  EXPECT_NE(std::find(argv.begin(), argv.end(), "--sampler"), argv.end());
  EXPECT_TRUE(j["context"]["process"]["cpu_time_s"]["user"].is_number());
  EXPECT_TRUE(j["runs"][0]["cpu_time_s"]["sys"].is_number());
}

TEST(Recorded, TwoOutputsNamingOneFileAreRefused) {
  std::string dir = scratch_dir("use_same");
  CliResult r = run_cli(kTiny + "--sampler ddim --steps 2 --json " + dir + "/a --csv " + dir + "/./a");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("name the same file"), std::string::npos) << r.err;
}

TEST(Recorded, UnknownFlagsGetASuggestionAndTheirCommandsHelp) {
  CliResult main = run_cli("--stpes 3");
  EXPECT_EQ(main.code, 2);
  EXPECT_NE(main.err.find("did you mean '--steps'?"), std::string::npos) << main.err;
  EXPECT_NE(main.err.find("see diffbench --help"), std::string::npos) << main.err;
  CliResult sub = run_cli("sweep --sampler ddim --jsnol x");
  EXPECT_EQ(sub.code, 2);
  EXPECT_NE(sub.err.find("did you mean '--jsonl'?"), std::string::npos) << sub.err;
  EXPECT_NE(sub.err.find("diffbench sweep --help"), std::string::npos) << sub.err;
  // Issue #22: the list of subcommands comes from the CLI itself (ablate was missing from it), and
  // `diffbench help` shows diffbench's help, not that of `help`.
  CliResult word = run_cli("foo");
  EXPECT_NE(word.err.find("subcommands: list, schedule, sweep, merge, compare, ab, history, ablate"), std::string::npos)
      << word.err;
  CliResult help = run_cli("help");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("ablate"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--sampler"), std::string::npos) << help.out;
}

TEST(Recorded, GridFileTyposAndCutOffFilesAreNamed) {
  std::string dir = scratch_dir("use_grid");
  write_file_atomically(dir + "/typo.json", R"({"sampler": ["ddim"], "stpes": [2]})");
  CliResult typo = run_cli("sweep --grid " + dir + "/typo.json --json " + dir + "/o.json");
  EXPECT_EQ(typo.code, 2);
  EXPECT_NE(typo.err.find("typo.json': unknown key 'stpes' (did you mean 'steps'?)"), std::string::npos) << typo.err;
  write_file_atomically(dir + "/cut.json", "{\n  \"sampler\": [\"ddim\"],\n  \"steps\": [2, 4");
  CliResult cut = run_cli("sweep --grid " + dir + "/cut.json --json " + dir + "/o.json");
  EXPECT_EQ(cut.code, 2);
  EXPECT_NE(cut.err.find("cut.json' line 3 column"), std::string::npos) << cut.err;
}

TEST(Recorded, NoiseIsFlaggedAsHyperfineDoes) {
  auto first = timing_warnings({2.0, 1.0, 1.01, 0.99});
  ASSERT_EQ(first.size(), 1u);
  EXPECT_NE(first[0].find("first counted run took 2.0x"), std::string::npos);
  EXPECT_TRUE(timing_warnings({1.0, 1.01, 0.99, 1.0, 1.02}).empty());
  auto outlier = timing_warnings({1.0, 1.01, 0.99, 1.0, 1.02, 1.01, 3.0});
  ASSERT_EQ(outlier.size(), 1u);
  EXPECT_NE(outlier[0].find("1 of 7 counted runs are statistical outliers"), std::string::npos);
  EXPECT_TRUE(machine_warnings(2, 2, 0.1).empty());
  auto busy = machine_warnings(2, 2, 1.5);
  ASSERT_EQ(busy.size(), 2u);  // load above half the cores, and 2 threads on 1 free core
  EXPECT_NE(busy[1].find("threads 2 is more than the 1 free core(s)"), std::string::npos);
}

TEST(Recorded, ConveniencesUsersExpect) {
  CliResult list = run_cli("list --json");
  ASSERT_EQ(list.code, 0);
  EXPECT_EQ(nlohmann::json::parse(list.out)["samplers"].size(), all_samplers().size());
  CliResult version = run_cli("-V");
  EXPECT_EQ(version.code, 0);
  EXPECT_EQ(version.out.rfind("diffbench ", 0), 0u);
  CliResult help = run_cli("help sweep");
  EXPECT_EQ(help.code, 0);
  EXPECT_NE(help.out.find("--resume"), std::string::npos);
  EXPECT_EQ(run_cli("help swep").code, 2);
  CliResult unit = run_cli(kTiny + "--sampler ddim --steps 2 --time-unit us --markdown -");
  ASSERT_EQ(unit.code, 0) << unit.err;
  EXPECT_NE(unit.out.find(" us |"), std::string::npos) << unit.out;
  EXPECT_EQ(run_cli(kTiny + "--sampler ddim --time-unit h").code, 2);
  std::string dir = scratch_dir("use_completion");
  CliResult completion = run_cli("completion bash");
  ASSERT_EQ(completion.code, 0);
  write_file_atomically(dir + "/c.bash", completion.out);
  EXPECT_EQ(std::system(("bash -n " + dir + "/c.bash").c_str()), 0);  // valid bash
  EXPECT_NE(completion.out.find("--resume"), std::string::npos);  // generated from the CLI itself
  EXPECT_NE(completion.out.find("dpmpp_2m"), std::string::npos);
}

TEST(Recorded, TheOverheadBenchmarkHasAUsageMessage) {
#ifndef DIFFBENCH_OVERHEAD_BIN
  GTEST_SKIP() << "the benchmarks are not built (DIFFBENCH_BENCH=OFF)";
#else
  CliResult help = run_cli_binary(DIFFBENCH_OVERHEAD_BIN, "--help");
  EXPECT_EQ(help.code, 0);  // before: SIGABRT
  EXPECT_NE(help.out.find("usage: diffbench_overhead"), std::string::npos);
  CliResult missing = run_cli_binary(DIFFBENCH_OVERHEAD_BIN, "/nonexistent.pt");
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err.rfind("error: ", 0), 0u) << missing.err;
#endif
}

TEST(Recorded, PlotDrawsEveryCellAndFailsCleanlyOnBadInput) {
  std::string dir = scratch_dir("use_plot");
  ASSERT_EQ(run_cli("sweep --unet " + kModels +
                    "tiny.pt --warmup 0 --repeat 3 --threads 1 -q --sampler ddim,euler "
                    "--steps 2,4 --batch 1,2 --jsonl " +
                    dir + "/s.jsonl")
                .code,
            0);
  std::string plot = DIFFBENCH_PYTHON " " DIFFBENCH_SOURCE_DIR "/scripts/plot.py ";
  EXPECT_EQ(std::system((plot + dir + "/s.jsonl -o " + dir + "/fig > " + dir + "/out 2> " + dir + "/err").c_str()), 0)
      << slurp(dir + "/err");
  EXPECT_EQ(slurp(dir + "/fig.png").substr(1, 3), "PNG");
  // Both batches are drawn as their own series (before: the smaller batch was dropped).
  std::string svg = slurp(dir + "/fig.svg");
  EXPECT_NE(svg.find("ddim 1x4x16x16"), std::string::npos);
  EXPECT_NE(svg.find("ddim 2x4x16x16"), std::string::npos);
  write_file_atomically(dir + "/bad.json", "not json at all");
  int code = std::system((plot + dir + "/bad.json -o " + dir + "/x 2> " + dir + "/err2").c_str());
  EXPECT_NE(code, 0);
  std::string err = slurp(dir + "/err2");
  EXPECT_NE(err.find("plot.py: error:"), std::string::npos) << err;
  EXPECT_EQ(err.find("Traceback"), std::string::npos) << err;
  // A compare/ab output is said to be one (issue #22: it was "KeyError: 'config'").
  ASSERT_EQ(run_cli("compare " + dir + "/s.jsonl " + dir + "/s.jsonl --allow-undecided --json " + dir + "/c.json").code,
            0);
  EXPECT_NE(std::system((plot + dir + "/c.json -o " + dir + "/y 2> " + dir + "/err3").c_str()), 0);
  EXPECT_NE(slurp(dir + "/err3").find("is the output of compare or ab"), std::string::npos) << slurp(dir + "/err3");
}

TEST(Recorded, SmallThingsAUserTrippedOn) {
  // Issue #22: a grid switch given a string names the file and key; --shard-plan 0 is refused as
  // a count; an output that is a symbolic link is written through, the link kept.
  std::string dir = scratch_dir("small_things");
  write_file_atomically(dir + "/g.json", R"({"karras": "yes"})");
  CliResult grid = run_cli(kSweep + "--grid " + dir + "/g.json --sampler euler --steps 2 --json " + dir + "/x.json");
  EXPECT_EQ(grid.code, 2);
  EXPECT_NE(grid.err.find("grid '" + dir + "/g.json': key 'karras' is a switch: give true or false, not \"yes\""),
            std::string::npos)
      << grid.err;
  CliResult plan = run_cli(kSweep + "--sampler ddim --steps 2,3 --shard-plan 0");
  EXPECT_EQ(plan.code, 2);
  EXPECT_NE(plan.err.find("--shard-plan needs a number of shards >= 1, got 0"), std::string::npos) << plan.err;
  ASSERT_EQ(std::system(("ln -s " + dir + "/real.csv " + dir + "/link.csv").c_str()), 0);
  ASSERT_EQ(run_cli(kTiny + "--sampler ddim --steps 2 --csv " + dir + "/link.csv").code, 0);
  struct stat st {};
  ASSERT_EQ(lstat((dir + "/link.csv").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the link was replaced by a file";
  EXPECT_EQ(slurp(dir + "/real.csv").rfind("sampler,steps,", 0), 0u);
}
