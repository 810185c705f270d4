// Signals: a run or sweep stops promptly, keeps what finished, exits 130/143. Each signal is sent
// once the run's own progress (its progress line, or the sweep's file) shows it is where the test
// needs it, never after a fixed delay; a second SIGINT ends the process at once. Serial: "stops
// promptly" is a time bound.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

#include <fmt/format.h>

#include "cli_runner.h"
#include "diffbench/plans/sweep.h"

using namespace diffbench;
using namespace diffbench::testing;

namespace {

struct Stopped {
  int code;
  double seconds_after_signal;
};

// Start diffbench in the background on a pseudo-terminal (so that it draws its progress line),
// wait until that progress shows `seen` (bounded: 120 s), run the shell commands `first` (they may
// use $pid), send `signal`, and wait for the exit; the time is from that signal. Waiting for
// progress instead of a fixed delay keeps the signal mid-run on a machine of any speed. stdout goes
// to LOG.out.
Stopped signal_when(const std::string& args, const std::string& seen, const std::string& log, const std::string& first,
                    const char* signal) {
  std::string script = "env -u CI SHELL=/bin/sh script -qfec \"exec " + std::string(DIFFBENCH_BIN) + " " + args +
                       " 2>&1 >" + log + ".out\" /dev/null > " + log + " & spid=$!; for i in $(seq 1200); do grep -q \"" +
                       seen + "\" " + log + " && break; sleep 0.1; done; pid=$(pgrep -P $spid); " + first +
                       " start=$(date +%s%N); kill -" + signal +
                       " $pid; wait $spid; code=$?; end=$(date +%s%N); echo $code $start $end";
  FILE* pipe = popen(("bash -c '" + script + "'").c_str(), "r");
  Stopped r{-1, 1e9};
  if (pipe) {
    long long start = 0, end = 0;
    if (fscanf(pipe, "%d %lld %lld", &r.code, &start, &end) != 3) r.code = -2;
    r.seconds_after_signal = double(end - start) / 1e9;
    pclose(pipe);
  }
  EXPECT_NE(slurp(log).find(seen), std::string::npos) << "the progress never showed '" << seen << "'";
  return r;
}

Stopped interrupt_when(const std::string& args, const char* signal, const std::string& seen) {
  return signal_when(args, seen, scratch_dir(std::string("signal_") + signal) + "/stderr.log", "", signal);
}

// A first SIGINT, then, once its handler has run (SIGINT no longer caught: /proc/PID/status SigCgt
// bit 2 clear), a second; the time is from the second. `log` gets stderr.
Stopped interrupt_twice_when(const std::string& args, const std::string& seen, std::string* log) {
  *log = scratch_dir("signal_twice") + "/stderr.log";
  return signal_when(args, seen, *log,
                     "kill -INT $pid; for i in $(seq 1000); do m=$(awk \"/SigCgt/{print \\$2}\" /proc/$pid/status); "
                     "(( (0x$m & 2) == 0 )) && break; sleep 0.01; done;",
                     "INT");
}

}  // namespace

TEST(Signals, SigintStopsPromptlyWritesFinishedRepeatsAndExits130) {
  std::string dir = scratch_dir("sigint");
  Stopped r = interrupt_when("--unet " + kModels +
                                 "tiny.pt --threads 1 --warmup 0 --repeat 20 --sampler ddpm --steps 1000 "
                                 "--json " +
                                 dir + "/r.json",
                             "INT", "run 2/20");  // the first repeat has finished
  EXPECT_EQ(r.code, 130);
  EXPECT_LT(r.seconds_after_signal, 2.0);
  auto j = nlohmann::json::parse(slurp(dir + "/r.json"));
  const auto& run = j["runs"][0];
  EXPECT_EQ(run["status"], "interrupted");
  EXPECT_GE(run["repeats"].size(), 1u);  // the repeats finished before the signal are kept
  EXPECT_LT(run["repeats"].size(), 20u);
  // The table's footer says what was counted, not what was asked (#41).
  const std::string table = slurp("/tmp/diffbench_test_" + std::to_string(getpid()) + "_signal_INT/stderr.log.out");
  EXPECT_NE(table.find(fmt::format("median over {} counted repeat(s) of the 20 asked", run["repeats"].size())),
            std::string::npos)
      << table;
}

TEST(Signals, SigtermStopsTheLectureTableAtOnceAndExits143) {
  std::string dir = scratch_dir("sigterm");
  // The signal lands in ddpm's 1000 steps: that run is recorded as interrupted, no later sampler starts.
  Stopped r = interrupt_when(
      "--unet " + kModels + "tiny.pt --threads 1 --warmup 0 --repeat 3 --json " + dir + "/r.json", "TERM", "ddpm  run");
  EXPECT_EQ(r.code, 143);
  EXPECT_LT(r.seconds_after_signal, 2.0);
  auto j = nlohmann::json::parse(slurp(dir + "/r.json"));
  ASSERT_EQ(j["runs"].size(), 1u);
  EXPECT_EQ(j["runs"][0]["config"]["sampler"], "ddpm");
  EXPECT_EQ(j["runs"][0]["status"], "interrupted");
}

namespace {

std::set<std::string> jsonl_cell_keys(const std::string& path) {
  std::set<std::string> keys;
  for (const auto& run : read_report(path).runs) keys.insert(cell_key(run["config"]));
  return keys;
}

// Start a sweep, send SIGINT once `file` is non-empty (its first cell is written; bounded: 120 s),
// and return the exit code: mid-sweep on a machine of any speed.
int interrupt_once_written(const std::string& args, const std::string& file) {
  std::string cmd = std::string(DIFFBENCH_BIN) + " " + args + " 2>/dev/null & pid=$!; for i in $(seq 1200); do [ -s " +
                    file + " ] && break; sleep 0.1; done; kill -INT $pid; wait $pid; echo $?";
  FILE* pipe = popen(("bash -c '" + cmd + "'").c_str(), "r");
  int code = -1;
  if (!pipe) return -1;
  if (fscanf(pipe, "%d", &code) != 1) code = -2;
  pclose(pipe);
  return code;
}

}  // namespace

TEST(Signals, InterruptedSweepKeepsFinishedCellsAndResumeCompletesIt) {
  std::string dir = scratch_dir("resume");
  std::string args = kSweep + "--sampler ddpm,ddim,euler --steps 200,201,202 --jsonl " + dir + "/s.jsonl";
  EXPECT_EQ(interrupt_once_written(args, dir + "/s.jsonl"), 130);
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
  EXPECT_EQ(jsonl_cell_keys(dir + "/s.jsonl").size(), 9u);  // no cell twice
  for (size_t i = 0; i < first_totals.size(); ++i) {
    EXPECT_EQ(full.runs[i]["repeats"][0]["total_s"].get<double>(), first_totals[i]);  // not re-measured
  }
}

TEST(Signals, AnInterruptedJsonSweepFileIsValidJsonWithTheFinishedCells) {
  // README: "--json ... valid JSON after every cell". Interrupted once the first cell is written.
  std::string dir = scratch_dir("json_interrupt");
  EXPECT_EQ(interrupt_once_written(kSweep + "--sampler ddpm,ddim,euler --steps 200,201,202 --json " + dir + "/s.json",
                                   dir + "/s.json"),
            130);
  nlohmann::json doc;
  ASSERT_NO_THROW(doc = nlohmann::json::parse(slurp(dir + "/s.json")));
  ASSERT_GE(doc["runs"].size(), 1u);
  ASSERT_LT(doc["runs"].size(), 9u);
  for (const auto& run : doc["runs"]) EXPECT_EQ(run["status"], "ok");
}

TEST(Signals, ASecondSigintEndsTheProcessAtOnce) {
  // README: "A second signal kills at once." One step of this shape takes seconds on one thread,
  // so a process that only asked itself to stop again would finish the step and print its line.
  std::string dir = scratch_dir("sigint_twice"), log;
  Stopped r = interrupt_twice_when("--unet " + kModels +
                                       "small.pt --threads 1 --warmup 0 --repeat 1 --sampler ddim "
                                       "--steps 3 --shape 1,4,320,320 --json " +
                                       dir + "/r.json",
                                   "ddim  run", &log);
  ASSERT_GE(r.code, 0);  // the shell's timing line was read
  EXPECT_LT(r.seconds_after_signal, 0.5);
  EXPECT_EQ(slurp(log).find("interrupted by signal"), std::string::npos) << slurp(log);
}
