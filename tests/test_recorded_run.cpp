// A report's runs read back typed (RecordedRun): what compare, ab and history decide on, and the
// one clear error a field of the wrong kind gets, in the library and through the real binary.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "cli_runner.h"
#include "gate_reports.h"
#include "diffbench/core/errors.h"
#include "diffbench/plans/recorded_run.h"
#include "diffbench/plans/sweep.h"

using namespace diffbench;
using namespace diffbench::testing;

namespace {

std::string read_error(const nlohmann::json& run) {
  try {
    read_recorded_run(run, "'r.json' runs[0]");
  } catch (const RuntimeError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(RecordedRun, TheFieldsTheGateReadsAreTyped) {
  nlohmann::json run = run_of(20, "host-1-2", {1.0, 1.1, 0.9});
  run["process"]["pair"] = 3;
  run["contention"] = {{"suspect", true}, {"why", "load 3.1 on 2 cores"}};
  run["stats"]["model_s"] = {{"samples", {0.5, 0.6}}, {"median", 0.55}};
  const RecordedRun r = read_recorded_run(run, "here");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.label, "ddim 20 steps 1x4x8x8 seed 0");
  EXPECT_EQ(r.process_id, "host-1-2");
  ASSERT_TRUE(r.pair.has_value());
  EXPECT_EQ(*r.pair, 3);
  ASSERT_TRUE(r.contention.has_value());
  EXPECT_EQ(*r.contention, "load 3.1 on 2 cores");
  EXPECT_EQ(r.figures("total_s"), (std::vector<double>{1.0, 1.1, 0.9}));
  EXPECT_EQ(r.figures("model_s"), (std::vector<double>{0.5, 0.6}));
  EXPECT_TRUE(r.figures("vae_s").empty());
  EXPECT_EQ(r.config["steps"], 20);
}

TEST(RecordedRun, AnOlderFilesMissingFieldsTakeTheirOldMeaning) {
  const RecordedRun r = read_recorded_run({{"config", {{"sampler", "lcm"}, {"steps", 4}}}}, "here");
  EXPECT_FALSE(r.ok());  // #42: no status is an unknown one, and an unknown status never counts as ok
  EXPECT_EQ(r.status_text, "unknown (no status)");
  EXPECT_EQ(r.process_id, "");  // compare then counts the file as one process
  EXPECT_FALSE(r.pair.has_value());
  EXPECT_FALSE(r.contention.has_value());
  EXPECT_TRUE(r.samples.empty());
  // Not suspect: no contention entry.
  nlohmann::json calm = run_of(4, "p", kFive);
  calm["contention"] = {{"suspect", false}, {"why", ""}};
  EXPECT_FALSE(read_recorded_run(calm, "here").contention.has_value());
}

TEST(RecordedRun, AFailedOrUnknownStatusIsNeverOk) {
  nlohmann::json run = run_of(20, "p", kFive);
  run["status"] = "failed";
  run["error"] = "NaN at step 3";
  const RecordedRun failed = read_recorded_run(run, "here");
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.status, RunStatus::failed);
  EXPECT_EQ(failed.error, "NaN at step 3");
  run["status"] = "exploded";  // written by some other tool or a newer build
  EXPECT_FALSE(read_recorded_run(run, "here").ok());
  EXPECT_EQ(read_recorded_run(run, "here").status_text, "exploded");
}

TEST(RecordedRun, AFieldOfTheWrongKindIsOneErrorNamingTheFileRunAndField) {
  nlohmann::json run = run_of(20, "p", kFive);
  run["stats"]["total_s"]["samples"] = "fast";
  EXPECT_EQ(read_error(run),
            "'r.json' runs[0]: stats.total_s.samples must be a list of numbers, got \"fast\" (not a report diffbench "
            "wrote; re-measure it)");
  run = run_of(20, "p", kFive);
  run["status"] = 5;
  EXPECT_NE(read_error(run).find("status must be a string, got 5"), std::string::npos) << read_error(run);
  run = run_of(20, "p", kFive);
  run["process"]["pair"] = "first";
  EXPECT_NE(read_error(run).find("process.pair must be a whole number"), std::string::npos) << read_error(run);
  EXPECT_NE(read_error(nlohmann::json::array()).find("a run must be an object, got array"), std::string::npos);
}

TEST(RecordedRun, ReadReportTypesEveryRunAndCompareAndHistorySayWhichFieldIsWrong) {
  const std::string dir = scratch_dir("recorded_run");
  const std::string good = write(dir, "good.json", report_of({run_of(20, "p", kFive)}));
  const Report report = read_report(good);
  ASSERT_EQ(report.recorded.size(), report.runs.size());
  EXPECT_EQ(report.recorded[0].figures("total_s"), kFive);

  nlohmann::json broken = run_of(20, "q", kFive);
  broken["stats"]["total_s"]["samples"] = "fast";
  const std::string bad = write(dir, "bad.json", report_of({run_of(20, "q", kFive), broken}));
  for (const std::string& command : {"compare " + good + " " + bad, "history " + good + " " + bad}) {
    CliResult r = run_cli(command);
    EXPECT_EQ(r.code, 1) << command;  // a report that cannot be read never passes the gate
    EXPECT_EQ(r.err, "error: '" + bad +
                         "' runs[1]: stats.total_s.samples must be a list of numbers, got \"fast\" (not a report "
                         "diffbench wrote; re-measure it)\n")
        << command;
  }
}
