// Signals: a run or sweep stops promptly, keeps what finished, exits 130/143. Timing windows
// (a signal after N seconds) make these serial tests: parallel load would shift the windows.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

#include "cli_runner.h"
#include "diffbench/sweep.h"

using namespace diffbench;
using namespace diffbench::testing;

namespace {

struct Stopped {
  int code;
  double seconds_after_signal;
};

// Start diffbench in the background, send `signal` after `delay_s`, wait for it.
Stopped interrupt(const std::string& args, const char* signal, double delay_s) {
  std::string script = std::string(DIFFBENCH_BIN) + " " + args + " 2>/dev/null >/dev/null & pid=$!; sleep " +
                       std::to_string(delay_s) + "; kill -" + signal +
                       " $pid; start=$(date +%s%N); wait $pid; code=$?; " + "end=$(date +%s%N); echo $code $start $end";
  FILE* pipe = popen(("bash -c '" + script + "'").c_str(), "r");
  Stopped r{-1, 1e9};
  if (pipe) {
    long long start = 0, end = 0;
    if (fscanf(pipe, "%d %lld %lld", &r.code, &start, &end) != 3) r.code = -2;
    r.seconds_after_signal = double(end - start) / 1e9;
    pclose(pipe);
  }
  return r;
}

}  // namespace

TEST(Signals, SigintStopsPromptlyWritesFinishedRepeatsAndExits130) {
  std::string dir = scratch_dir("sigint");
  Stopped r = interrupt("--unet " + kModels +
                            "tiny.pt --threads 1 --warmup 0 --repeat 20 --sampler ddpm --steps 1000 "
                            "--json " +
                            dir + "/r.json",
                        "INT", 4.0);
  EXPECT_EQ(r.code, 130);
  EXPECT_LT(r.seconds_after_signal, 2.0);
  auto j = nlohmann::json::parse(slurp(dir + "/r.json"));
  const auto& run = j["runs"][0];
  EXPECT_EQ(run["status"], "interrupted");
  EXPECT_GE(run["repeats"].size(), 1u);  // the repeats finished before the signal are kept
  EXPECT_LT(run["repeats"].size(), 20u);
}

TEST(Signals, SigtermStopsTheLectureTableAtOnceAndExits143) {
  std::string dir = scratch_dir("sigterm");
  // The signal lands in ddpm's 1000 steps: that run is recorded as interrupted, no later sampler starts.
  Stopped r = interrupt("--unet " + kModels + "tiny.pt --threads 1 --warmup 0 --repeat 3 --json " + dir + "/r.json",
                        "TERM", 2.0);
  EXPECT_EQ(r.code, 143);
  EXPECT_LT(r.seconds_after_signal, 2.0);
  auto j = nlohmann::json::parse(slurp(dir + "/r.json"));
  ASSERT_EQ(j["runs"].size(), 1u);
  EXPECT_EQ(j["runs"][0]["config"]["sampler"], "ddpm");
  EXPECT_EQ(j["runs"][0]["status"], "interrupted");
}

namespace {


std::set<std::string> cell_keys(const std::string& path) {
  std::set<std::string> keys;
  for (const auto& run : read_report(path).runs) keys.insert(cell_key(run["config"]));
  return keys;
}

}  // namespace

TEST(Signals, InterruptedSweepKeepsFinishedCellsAndResumeCompletesIt) {
  std::string dir = scratch_dir("resume");
  std::string args = kSweep + "--sampler ddpm,ddim,euler --steps 200,201,202 --jsonl " + dir + "/s.jsonl";
  // Each cell takes ~0.4 s: SIGINT after ~2 s lands mid-sweep.
  std::string cmd =
      std::string(DIFFBENCH_BIN) + " " + args + " 2>/dev/null & pid=$!; sleep 2; kill -INT $pid; wait $pid; echo $?";
  FILE* pipe = popen(("bash -c '" + cmd + "'").c_str(), "r");
  int code = -1;
  ASSERT_TRUE(pipe);
  ASSERT_EQ(fscanf(pipe, "%d", &code), 1);
  pclose(pipe);
  EXPECT_EQ(code, 130);
  Report partial = read_report(dir + "/s.jsonl");
  EXPECT_FALSE(partial.truncated_tail);
  ASSERT_GE(partial.runs.size(), 1u);
  ASSERT_LT(partial.runs.size(), 9u);
  for (const auto& run : partial.runs) EXPECT_EQ(run["status"], "ok");
  std::vector<double> first_totals;
  for (const auto& run : partial.runs) first_totals.push_back(run["repeats"][0]["total_s"]);

  CliResult r = run_cli(args + " --resume " + dir + "/s.jsonl");
  ASSERT_EQ(r.code, 0) << r.err;
  Report full = read_report(dir + "/s.jsonl");
  EXPECT_EQ(full.runs.size(), 9u);
  EXPECT_EQ(cell_keys(dir + "/s.jsonl").size(), 9u);  // no cell twice
  for (size_t i = 0; i < first_totals.size(); ++i) {
    EXPECT_EQ(full.runs[i]["repeats"][0]["total_s"].get<double>(), first_totals[i]);  // not re-measured
  }
}
