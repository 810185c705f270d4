// `diffbench ab` between processes, as the README's CI recipe uses it for two builds: two binaries
// (--base-bin/--new-bin), uncounted warm-up blocks, the A B B A order, and a child that fails
// stopping ab with its own error and code.
// The binaries are wrapper scripts that log each start and then run this build's diffbench.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>

#include "cli_runner.h"
#include "diffbench/core/files.h"
#include "diffbench/plans/sweep.h"

using namespace diffbench;
using namespace diffbench::testing;

namespace {

// A wrapper binary: appends `tag` to `log` on each start, then runs diffbench, or fails with
// `fail_code` and a one-line error when that is not 0.
std::string wrapper(const std::string& dir, const std::string& tag, const std::string& log, int fail_code = 0) {
  const std::string path = dir + "/" + tag + ".sh";
  std::string body = "#!/bin/sh\nprintf " + tag + " >> " + log + "\n";
  body += fail_code ? "echo 'error: deliberate failure of the " + tag + " binary' >&2\nexit " +
                          std::to_string(fail_code) + "\n"
                    : "exec " DIFFBENCH_BIN " \"$@\"\n";
  write_file_atomically(path, body);
  std::system(("chmod +x " + path).c_str());
  return path;
}

const std::string kAbRun =
    " -- --unet " + kModels + "tiny.pt --threads 1 --sampler ddim --steps 2 --warmup 0 --repeat 1";

}  // namespace

TEST(GateAb, TwoBinariesInterleavedABBAWithUncountedWarmupPairs) {
  std::string dir = scratch_dir("ab_bins");
  const std::string log = dir + "/order.log";
  const std::string a = wrapper(dir, "A", log), b = wrapper(dir, "B", log);
  CliResult r = run_cli("ab --max-blocks 7 --warmup-blocks 1 -q --base-bin " + a + " --new-bin " + b + " --save-base " +
                        dir + "/base.json --save-new " + dir + "/new.json --json " + dir + "/c.json" + kAbRun);
  EXPECT_NE(r.code, 1) << r.err;  // identical work: the verdict is the test's business
  // Block k runs A B when k is even and B A when it is odd: drift that rises over time hits both alike.
  // The first look is at 7 blocks (ab's alpha 0.02: 2^-7 <= 0.01); --max-blocks 7 stops there whatever it says.
  EXPECT_EQ(slurp(log), "ABBAABBAABBAABBA");
  // The warm-up block is not counted: seven processes per side in the reports and the test.
  auto base = nlohmann::json::parse(slurp(dir + "/base.json"));
  EXPECT_EQ(base["runs"].size(), 7u);
  EXPECT_EQ(base["ab"]["mode"], "processes");
  auto c = nlohmann::json::parse(slurp(dir + "/c.json"));
  EXPECT_EQ(c["ab"]["mode"], "processes");
  EXPECT_EQ(c["cells"][0]["decision"]["n"], 7);
  EXPECT_EQ(c["cells"][0]["log_ratios"].size(), 7u);
}

TEST(GateAb, AFailingChildStopsAbWithOneLineAndAFailedNewSideExits5) {
  // A new side that fails never passes: exit 5 (#42: a killed child or a report-less exit 0 gave
  // exit 1 or 2 with a temporary path); a usage error keeps 2; a failing base side is exit 1.
  std::string dir = scratch_dir("ab_fail");
  const std::string log = dir + "/order.log";
  const std::string a = wrapper(dir, "A", log);
  auto expect_one_line = [](const CliResult& r, int code, const std::string& says) {
    EXPECT_EQ(r.code, code) << r.err;
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  };
  for (auto [code, want] : {std::pair{1, 5}, std::pair{2, 2}}) {
    const std::string b = wrapper(dir, "B" + std::to_string(code), log, code);
    CliResult r = run_cli("ab --max-blocks 7 --warmup-blocks 0 -q --base-bin " + a + " --new-bin " + b + kAbRun);
    expect_one_line(r, want, "exited with code " + std::to_string(code) + ": error: deliberate failure of the B");
  }
  EXPECT_EQ(slurp(log), "AB1AB2");  // stopped at the first failure, nothing measured after it
  const std::string base_fails = wrapper(dir, "C", log, 1);
  expect_one_line(run_cli("ab --max-blocks 7 --warmup-blocks 0 -q --base-bin " + base_fails + " --new-bin " + a + kAbRun),
                  1, "the base process");
  const std::string killed = dir + "/killed.sh", silent = dir + "/silent.sh";
  write_file_atomically(killed, "#!/bin/sh\nkill -KILL $$\n");
  write_file_atomically(silent, "#!/bin/sh\nexit 0\n");
  std::system(("chmod +x " + killed + " " + silent).c_str());
  expect_one_line(run_cli("ab --max-blocks 7 --warmup-blocks 0 -q --base-bin " + a + " --new-bin " + killed + kAbRun),
                  5, "exited with code 137: killed by signal 9");
  CliResult none = run_cli("ab --max-blocks 7 --warmup-blocks 0 -q --base-bin " + a + " --new-bin " + silent + kAbRun);
  expect_one_line(none, 5, "exited 0 but wrote no report");
  EXPECT_EQ(none.err.find("/tmp/diffbench-ab-"), std::string::npos) << none.err;
}

TEST(GateAb, TwoModelsWithoutIgnoreModelStopAfterTheFirstBlock) {
  // Issue #22: this measured every process before saying that nothing matched.
  std::string dir = scratch_dir("ab_models");
  const std::string log = dir + "/order.log";
  const std::string a = wrapper(dir, "A", log), b = wrapper(dir, "B", log);
  CliResult r = run_cli("ab --warmup-blocks 0 --base-bin " + a + " --new-bin " + b + " --base-args \"--unet " +
                        kModels + "tiny.pt\" --new-args \"--unet " + kModels +
                        "small.pt\" -- --shape 1,4,16,16 --threads 1 --sampler ddim --steps 2 --warmup 0 --repeat 1");
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_EQ(slurp(log), "AB");  // one block
  EXPECT_NE(r.err.find("not every cell matches after the first block"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("`--ignore model`"), std::string::npos) << r.out;  // and what would match them
}

TEST(GateAb, EachGateNamesTheTestItRuns) {
  // Issue #22: `ab --help` named the Mann-Whitney test while ab runs the Wilcoxon signed-rank test.
  CliResult ab = run_cli("ab --help"), compare = run_cli("compare --help");
  ASSERT_EQ(ab.code, 0);
  EXPECT_NE(ab.out.find("Wilcoxon signed-rank"), std::string::npos) << ab.out;
  EXPECT_EQ(ab.out.find("Mann-Whitney"), std::string::npos) << ab.out;
  ASSERT_EQ(compare.code, 0);
  EXPECT_NE(compare.out.find("Mann-Whitney U"), std::string::npos) << compare.out;
  EXPECT_EQ(compare.out.find("Wilcoxon"), std::string::npos) << compare.out;
}

// #42: a new side whose process exits 0 but whose report lacks the cell (here from its third call
// on) fails the gate (exit 5); it used to lend the cell the previous block's figure and pass.
TEST(GateAb, ABlockWhoseReportLacksTheCellFailsTheGate) {
  std::string dir = scratch_dir("ab_lacking");
  const std::string a = wrapper(dir, "A", dir + "/order.log"), b = dir + "/lacking.sh";
  write_file_atomically(b, "#!/bin/bash\nn=$(( $(cat " + dir + "/calls 2>/dev/null || echo 0) + 1 )); echo $n > " +
                               dir + "/calls\n" DIFFBENCH_BIN " \"$@\" || exit $?\n"
                               "if [ $n -ge 3 ]; then\n  while [ $# -gt 0 ]; do [ \"$1\" = --json ] && out=$2; shift; done\n"
                               "  /usr/bin/python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); d[\"runs\"] = []; "
                               "json.dump(d, open(sys.argv[1], \"w\"))' \"$out\"\nfi\n");
  std::system(("chmod +x " + b).c_str());
  CliResult r = run_cli("ab --max-blocks 7 --warmup-blocks 0 -q --base-bin " + a + " --new-bin " + b + kAbRun);
  EXPECT_EQ(r.code, 5) << r.err;
  EXPECT_NE(r.err.find("error: ab: block 2 of the new side reported 0 run(s), not the 1 cell(s) of its first block"),
            std::string::npos)
      << r.err;
}
