// Tests whose verdict depends on real timing differences. They run alone (RUN_SERIAL): another
// test using the same cores would erase the very slowdown they measure.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.h"

using namespace diffbench::testing;

TEST(Compare, ARunMadeClearlySlowerExitsThreeAndUnmatchedRunsAreListed) {
  std::string dir = scratch_dir("cmp_slow");
  // The default small model on 2 threads vs 1: a real slowdown where threads matter.
  std::string base = "--warmup 1 --repeat 6 -q --sampler ddim --steps 15 ";
  ASSERT_EQ(run_cli(base + "--threads 2 --json " + dir + "/fast.json").code, 0);
  ASSERT_EQ(run_cli(base + "--threads 1 --json " + dir + "/slow.json").code, 0);
  CliResult r = run_cli("compare " + dir + "/fast.json " + dir + "/slow.json --markdown " + dir + "/c.md --json " + dir + "/c.json");
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("slower"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("threads"), std::string::npos) << r.err;  // the contexts differ: warned
  EXPECT_NE(slurp(dir + "/c.md").find("| ddim 15 steps"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(slurp(dir + "/c.json"))["regression"], true);
  // Reversed, it is faster: exit 0.
  EXPECT_EQ(run_cli("compare " + dir + "/slow.json " + dir + "/fast.json").code, 0);
  // Runs on one side only are listed, not fatal.
  ASSERT_EQ(run_cli(base + "--steps 16 --json " + dir + "/other.json").code, 0);
  CliResult u = run_cli("compare " + dir + "/fast.json " + dir + "/other.json");
  EXPECT_EQ(u.code, 0);
  EXPECT_NE(u.out.find("only in base: ddim 15 steps"), std::string::npos) << u.out;
  EXPECT_NE(u.out.find("only in new: ddim 16 steps"), std::string::npos) << u.out;
  EXPECT_EQ(run_cli("compare " + dir + "/missing.json " + dir + "/other.json").code, 1);  // unreadable input
  EXPECT_EQ(run_cli("compare " + dir + "/fast.json").code, 2);                           // usage
}

