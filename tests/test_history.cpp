// `diffbench history` on real reports of the real binary (a gross step the newest reports start),
// on written series (flat: exit 0; a step in the middle: found, but no regression now), and on
// series of `ab` reports (each point a new/base ratio).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "cli_runner.h"
#include "diffbench/core/files.h"

using namespace diffbench;
using namespace diffbench::testing;

namespace {

// A report of one ddim run whose repeats took `seconds`.
void write_report(const std::string& path, double seconds) {
  nlohmann::json run = {{"config", {{"sampler", "ddim"}, {"steps", 20}, {"shape", {1, 4, 8, 8}}, {"seed", 0}}},
                        {"status", "ok"},
                        {"stats", {{"total_s", {{"samples", {seconds, seconds * 1.001, seconds * 0.999}}}}}}};
  write_file_atomically(path, nlohmann::json{{"schema_version", 2}, {"context", {}}, {"runs", {run}}}.dump());
}

// An `ab --json` report with one cell whose decision measured `change` (no blocks: a failed cell).
void write_ab_report(const std::string& path, double change, bool blocks = true) {
  nlohmann::json cell = {{"label", "ddim 20 steps 1x4x8x8 seed 0"},
                         {"config", {{"sampler", "ddim"}, {"steps", 20}, {"shape", {1, 4, 8, 8}}, {"seed", 0}}},
                         {"log_ratios", blocks ? nlohmann::json{0.01, -0.01} : nlohmann::json::array()},
                         {"decision", {{"change", change}, {"verdict", "undecided"}}}};
  write_file_atomically(path, nlohmann::json{{"ab", {{"mode", "in-process"}}}, {"cells", {cell}}}.dump());
}

}  // namespace

TEST(History, TheNewestReportsStartingASlowdownExit3) {
  std::string dir = scratch_dir("history_real");
  const std::string run = "--unet " + kModels + "tiny.pt --threads 1 --sampler ddim --shape 1,4,8,8 -q --repeat 3 ";
  for (int i = 0; i < 12; ++i) {  // 9 reports at 2 steps, then 3 at 16: the newest three start it
    const std::string file = fmt::format("{}/r{:02d}.json", dir, i);
    ASSERT_EQ(run_cli(run + "--steps " + std::string(i < 9 ? "2" : "16") + " --json " + file).code, 0);
  }
  CliResult r = run_cli("history --ignore steps --json " + dir + "/h.json " + dir);
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("the newest point starts a slowdown of +"), std::string::npos) << r.err;
  auto h = nlohmann::json::parse(slurp(dir + "/h.json"));
  ASSERT_EQ(h["cells"].size(), 1u);
  const auto& points = h["cells"][0]["change_points"];
  ASSERT_GE(points.size(), 1u);
  EXPECT_EQ(points.back()["index"], 9);
  EXPECT_GT(points.back()["low"].get<double>(), 1.0);  // 8x the steps: at least twice the time
  EXPECT_EQ(points.back()["source"], dir + "/r09.json");
}

TEST(History, FlatSeriesPassAndAnOldStepIsReportedNotFailed) {
  std::string dir = scratch_dir("history_written");
  const double flat[] = {1.00, 1.01, 0.99, 1.00, 1.02, 0.98, 1.00, 1.01, 0.99, 1.00};
  std::string files;
  for (int i = 0; i < 10; ++i) {
    write_report(fmt::format("{}/f{}.json", dir, i), flat[i]);
    files += fmt::format(" {}/f{}.json", dir, i);
  }
  CliResult quiet = run_cli("history" + files);
  EXPECT_EQ(quiet.code, 0) << quiet.err;
  EXPECT_NE(quiet.out.find("10 points, 0 change point(s)"), std::string::npos) << quiet.out;
  // #41: a run-report series is never "no change" without the word that its points carry the machine's drift.
  EXPECT_NE(quiet.out.find("Warning: these are run reports, one process per commit"), std::string::npos) << quiet.out;
  std::string stepped;
  for (int i = 0; i < 10; ++i) {  // the step is five reports old: history, not a new regression
    write_report(fmt::format("{}/s{}.json", dir, i), flat[i] * (i >= 5 ? 1.2 : 1.0));
    stepped += fmt::format(" {}/s{}.json", dir, i);
  }
  CliResult old = run_cli("history" + stepped);
  EXPECT_EQ(old.code, 0) << old.err;
  EXPECT_NE(old.out.find("at #5 (" + dir + "/s5.json): +"), std::string::npos) << old.out;
}

TEST(History, BadInputsGetOneLine) {
  std::string dir = scratch_dir("history_bad");
  for (const std::string& args :
       std::vector<std::string>{"history", "history " + dir, "history --alpha 2 x.json", "history /no/such.json"}) {
    CliResult r = run_cli(args);
    EXPECT_TRUE(r.code == 1 || r.code == 2) << args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << ": " << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  }
}

TEST(History, AbReportsMakeSeriesOfRatiosAgainstAFixedBase) {
  std::string dir = scratch_dir("history_ab_real");
  const std::string run =
      "-- --unet " + kModels + "tiny.pt --threads 1 --sampler ddim --shape 1,4,8,8 --repeat 1 --steps 2";
  for (int i = 0; i < 8; ++i) {  // the base always 2 steps; the new side 6 from report 5 on (about 3x)
    const std::string file = fmt::format("{}/a{:02d}.json", dir, i);
    CliResult ab = run_cli(fmt::format("ab -q --max-blocks 9 --ignore steps --json {} --new-args \"--steps {}\" {}",
                                       file, i < 5 ? 2 : 6, run));
    ASSERT_TRUE(ab.code == 0 || ab.code == 3 || ab.code == 4) << ab.err;
  }
  auto first = nlohmann::json::parse(slurp(dir + "/a00.json"));
  EXPECT_EQ(first["cells"][0]["config"]["sampler"], "ddim");  // what history matches cells on
  CliResult r = run_cli("history --ignore steps --json " + dir + "/h.json " + dir);
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.out.find("8 points (ab ratios new/base), 1 change point(s)"), std::string::npos) << r.out;
  auto h = nlohmann::json::parse(slurp(dir + "/h.json"));
  ASSERT_EQ(h["cells"].size(), 1u);
  EXPECT_EQ(h["cells"][0]["quantity"], "ratio");
  EXPECT_LT(std::abs(h["cells"][0]["ratios"][0].get<double>() - 1), 0.3);  // same work on both sides
  const auto& points = h["cells"][0]["change_points"];
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0]["index"], 5);
  EXPECT_GT(points[0]["low"].get<double>(), 0.5);  // 3x the steps: well over 1.5x the ratio
  const std::string plot = DIFFBENCH_PYTHON " " DIFFBENCH_SOURCE_DIR "/scripts/plot.py " + dir + "/h.json -o " + dir;
  ASSERT_EQ(std::system((plot + "/fig > /dev/null 2> " + dir + "/err").c_str()), 0) << slurp(dir + "/err");
  EXPECT_NE(slurp(dir + "/fig.svg").find("new / base (ab)"), std::string::npos);  // drawn as ratios, not ms
}

TEST(History, WrittenAbReportsFlatPassMixedKindsAndBadCellsAreRefused) {
  std::string dir = scratch_dir("history_ab_written");
  const double flat[] = {0.00, 0.01, -0.01, 0.00, 0.02, -0.02, 0.00, 0.01};
  std::string files;
  for (int i = 0; i < 8; ++i) {
    write_ab_report(fmt::format("{}/a{}.json", dir, i), flat[i]);
    files += fmt::format(" {}/a{}.json", dir, i);
  }
  CliResult flat_only = run_cli("history" + files);
  EXPECT_EQ(flat_only.code, 0) << flat_only.err;
  EXPECT_NE(flat_only.out.find("8 points (ab ratios new/base), 0 change point(s)"), std::string::npos) << flat_only.out;
  // #42: a newest cell that measured no block has no point: the series must not pass on the older ones.
  write_ab_report(dir + "/failed.json", 0.5, /*blocks=*/false);
  CliResult r = run_cli("history" + files + " " + dir + "/failed.json");
  EXPECT_EQ(r.code, 5) << r.err;
  EXPECT_NE(r.err.find("error: history: the newest report '" + dir +
                       "/failed.json' has no finished figure for ddim 20 steps 1x4x8x8 seed 0"),
            std::string::npos)
      << r.err;
  write_report(dir + "/run.json", 1.0);
  CliResult mixed = run_cli("history" + files + " " + dir + "/run.json");
  EXPECT_EQ(mixed.code, 2);
  EXPECT_EQ(mixed.err, "error: history: '" + dir + "/a0.json' is an ab report and '" + dir +
                           "/run.json' a run report; a history is of one kind\n");
  write_file_atomically(dir + "/bad.json", R"({"ab": {}, "cells": [{"label": "x", "log_ratios": [0.1],
                                            "decision": {"change": "big"}}]})");
  CliResult bad = run_cli("history" + files + " " + dir + "/bad.json");
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  EXPECT_NE(bad.err.find("cells[0].decision.change must be a number above -1"), std::string::npos) << bad.err;
}

// #42: a newest run report that failed, or holds no run, fails the history (exit 5); it was dropped
// and the older reports passed.
TEST(History, ANewestReportThatFailedOrIsEmptyNeverPasses) {
  std::string dir = scratch_dir("history_newest");
  std::string files;
  for (int i = 0; i < 8; ++i) {
    write_report(fmt::format("{}/r{}.json", dir, i), 1.0 + 0.001 * (i % 3));
    files += fmt::format(" {}/r{}.json", dir, i);
  }
  ASSERT_EQ(run_cli("history -q" + files).code, 0);
  nlohmann::json failed = nlohmann::json::parse(slurp(dir + "/r0.json"));
  failed["runs"][0]["status"] = "failed";
  write_file_atomically(dir + "/z-failed.json", failed.dump());
  nlohmann::json empty = failed;
  empty["runs"] = nlohmann::json::array();
  write_file_atomically(dir + "/z-empty.json", empty.dump());
  for (const std::string newest : {"z-failed.json", "z-empty.json"}) {
    CliResult r = run_cli("history -q" + files + " " + dir + "/" + newest);
    EXPECT_EQ(r.code, 5) << newest << ": " << r.err;
    EXPECT_NE(r.err.find("the newest report '" + dir + "/" + newest + "' has no finished figure"), std::string::npos)
        << r.err;
  }
}

TEST(History, TheNewestThreeReportsAreTheWindowOfANewSlowdown) {
  // A step whose new level holds the newest three reports is a slowdown now (exit 3); one that
  // holds the newest four is history (exit 0, reported): the window is three reports, not four (#41).
  std::string dir = scratch_dir("history_window");
  const double flat[] = {1.00, 1.01, 0.99, 1.00, 1.02, 0.98, 1.00, 1.01, 0.99, 1.00};
  for (int from_end : {3, 4}) {
    std::string files;
    for (int i = 0; i < 10; ++i) {
      const std::string file = fmt::format("{}/w{}-{}.json", dir, from_end, i);
      write_report(file, flat[i] * (i >= 10 - from_end ? 1.2 : 1.0));
      files += " " + file;
    }
    CliResult r = run_cli("history" + files);
    EXPECT_EQ(r.code, from_end == 3 ? 3 : 0) << from_end << r.err;
    EXPECT_NE(r.out.find(fmt::format("at #{} ({}/w{}-{}.json): +", 10 - from_end, dir, from_end, 10 - from_end)),
              std::string::npos)
        << r.out;
  }
}
