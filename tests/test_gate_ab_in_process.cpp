// `diffbench ab` with both sides in one process (the default for one binary): real runs of the real
// binary deciding a known slowdown, an A/A pair, a failed run on the new side, a budget too short
// to decide, and the fall-back to processes when the sides need different process settings.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "cli_runner.h"

using namespace diffbench::testing;

namespace {

const std::string kInProcessRun =
    " -- --unet " + kModels + "tiny.pt --threads 1 --sampler ddim --repeat 1 --shape 1,4,8,8";

}  // namespace

TEST(GateAbInProcess, ATenfoldSlowdownIsSlowerAndExits3) {
  std::string dir = scratch_dir("ab_inproc_slow");
  CliResult r = run_cli("ab --ignore steps --json " + dir + "/c.json --save-new " + dir +
                        "/new.json --base-args \"--steps 2\" --new-args \"--steps 20\"" + kInProcessRun);
  ASSERT_EQ(r.code, 3) << r.err;
  // The console ends on its verdict (#41: exit 3 had no verdict line).
  const std::string last = r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1);
  EXPECT_EQ(last.rfind("REGRESSION: slower by more than 5%: ", 0), 0u) << r.out;
  EXPECT_NE(last.find("(exit 3).\n"), std::string::npos) << last;
  auto c = nlohmann::json::parse(slurp(dir + "/c.json"));
  EXPECT_EQ(c["ab"]["mode"], "in-process");
  EXPECT_TRUE(c["ab"]["shared_models"]);  // one model, two step counts: one copy runs both sides
  const auto& d = c["cells"][0]["decision"];
  EXPECT_EQ(d["verdict"], "slower");
  // Ten steps against two, plus fixed costs: about 5x. The estimate (the blocks' median) says so
  // even on a loaded machine; the interval's low end is the sign test's order statistic of only 7
  // blocks, which one disturbed block drags down (a run beside training: 0.18), so it must only
  // exclude "no change", as "slower" requires.
  EXPECT_GT(d["change"].get<double>(), 2.0);
  EXPECT_GT(d["low"].get<double>(), 0.0);
  EXPECT_GE(d["n"].get<int>(), 7);  // the first look (alpha 0.02), or a later one when a block was disturbed
  auto saved = nlohmann::json::parse(slurp(dir + "/new.json"));
  EXPECT_EQ(saved["runs"].size(), c["ab"]["blocks"].get<size_t>());
  EXPECT_EQ(saved["runs"][0]["config"]["steps"], 20);
}

TEST(GateAbInProcess, AnATestIsNeverSlowerAtATinyAlpha) {
  // At alpha 0.001 a false "slower" has probability below 0.001 even on a loaded machine: the
  // interleaved blocks share the load.
  std::string dir = scratch_dir("ab_inproc_aa");
  CliResult r = run_cli("ab -q --alpha 0.001 --max-blocks 40 --json " + dir + "/c.json" + kInProcessRun + " --steps 2");
  EXPECT_TRUE(r.code == 0 || r.code == 4) << r.err;
  auto c = nlohmann::json::parse(slurp(dir + "/c.json"));
  EXPECT_EQ(c["ab"]["first_look"], 11);  // 2^-11 <= 0.001 / 2 < 2^-10
  EXPECT_NE(c["cells"][0]["decision"]["verdict"], "slower");
}

TEST(GateAbInProcess, AFailedRunOnTheNewSideExits5AndKeepsWhatWasMeasured) {
  std::string dir = scratch_dir("ab_inproc_nan");
  CliResult r = run_cli("ab -q --ignore model --save-new " + dir + "/new.json --new-args \"--unet " + kData +
                        "nan_after_500.pt\" --warmup-blocks 0 -- --threads 1 --sampler ddim --steps 4 --repeat 1 "
                        "--shape 1,4,8,8 --unet " +
                        kModels + "tiny.pt");
  EXPECT_EQ(r.code, 5) << r.err;
  EXPECT_NE(r.err.find("error: ab: a run of the new side failed: ddim 4 steps"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  auto saved = nlohmann::json::parse(slurp(dir + "/new.json"));
  ASSERT_EQ(saved["runs"].size(), 1u);
  EXPECT_EQ(saved["runs"][0]["status"], "failed");
}

TEST(GateAbInProcess, ABudgetTooShortIsUndecidedExit4) {
  std::string dir = scratch_dir("ab_inproc_budget");
  CliResult r = run_cli("ab -q --budget 0.001 --json " + dir + "/c.json" + kInProcessRun + " --steps 2");
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.err.find("undecided"), std::string::npos) << r.err;
  auto c = nlohmann::json::parse(slurp(dir + "/c.json"));
  EXPECT_EQ(c["ab"]["budget_out"], true);
  EXPECT_EQ(c["ab"]["blocks"], 1);
  EXPECT_TRUE(c["ab"]["shared_models"]);  // the same model and settings on both sides: one copy
  EXPECT_EQ(c["cells"][0]["decision"]["verdict"], "undecided");
  EXPECT_TRUE(c["cells"][0]["decision"]["high"].is_null());  // no bound before the first look
}

TEST(GateAbInProcess, SidesWithDifferentThreadCountsRunAsProcesses) {
  std::string dir = scratch_dir("ab_inproc_threads");
  CliResult r = run_cli("ab --max-blocks 7 --ignore threads --json " + dir +
                        "/c.json --base-args \"--threads 1\" --new-args \"--threads 2\" -- --unet " + kModels +
                        "tiny.pt --sampler ddim --steps 2 --repeat 1 --warmup 0 --shape 1,4,8,8");
  EXPECT_NE(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("note: the sides ask for different --threads: one process per side per block"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(nlohmann::json::parse(slurp(dir + "/c.json"))["ab"]["mode"], "processes");
}

TEST(GateAbInProcess, MeasurementsBeyondTimeAreRefused) {
  for (const std::string flag : {"--quality fd", "--save-latents x.npy", "--reference ddim:50"}) {
    CliResult r = run_cli("ab" + kInProcessRun + " " + flag);
    EXPECT_EQ(r.code, 2) << flag;
    EXPECT_NE(r.err.find("error: ab measures time only; drop --"), std::string::npos) << r.err;
  }
}

TEST(GateAbInProcess, SidesOnDifferentModelsKeepACopyEach) {
  std::string dir = scratch_dir("ab_inproc_two_models");
  CliResult r = run_cli("ab -q --budget 0.001 --ignore model --json " + dir + "/c.json --new-args \"--unet " + kModels +
                        "small.pt\"" + kInProcessRun + " --steps 2");
  EXPECT_EQ(r.code, 4) << r.err;
  auto c = nlohmann::json::parse(slurp(dir + "/c.json"));
  EXPECT_EQ(c["ab"]["mode"], "in-process");
  EXPECT_FALSE(c["ab"]["shared_models"]);
}

TEST(GateAbInProcess, BlocksRunABBAAndReloadEveryNBlocks) {
  // In one process the order is A B in even blocks and B A in odd ones (drift that rises over time
  // hits both sides alike), and --reload-blocks 3 loads both sides' models again at blocks 0, 3, 6.
  std::string dir = scratch_dir("ab_inproc_order");
  CliResult r = run_cli("ab -q --max-blocks 7 --warmup-blocks 1 --reload-blocks 3 --save-base " + dir +
                        "/base.json --save-new " + dir + "/new.json" + kInProcessRun + " --steps 2");
  ASSERT_TRUE(r.code == 0 || r.code == 4) << r.err;
  for (const char* side : {"base", "new"}) {
    const auto runs = nlohmann::json::parse(slurp(dir + "/" + side + ".json"))["runs"];
    ASSERT_EQ(runs.size(), 7u) << side;
    for (const auto& run : runs) {
      const int block = run["ab_block"];
      EXPECT_EQ(run["ab_first"].get<bool>(), (block % 2 == 0) == (std::string(side) == "base")) << side << block;
      EXPECT_EQ(run["ab_models_loaded_at_block"], block - block % 3) << side << block;
    }
  }
}

TEST(GateAbInProcess, MaxBlocksIsCheckedAgainstEachCellsShareOfAlpha) {
  // Six cells (the lecture's samplers) share 0.02: 0.0033 each, whose first look is 10 blocks; a
  // cap of 9 can never look, and is refused after the first block shows the cells (#41).
  CliResult r = run_cli("ab -q --max-blocks 9 -- --unet " + kModels + "tiny.pt --threads 1 --repeat 1 --shape 1,4,8,8");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("error: --max-blocks 9: with 6 cells each gets alpha 0.00333333, whose first look needs 10 blocks"),
            std::string::npos)
      << r.err;
}
