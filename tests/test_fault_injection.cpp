// Faults injected into real runs of the real binary (#42), each bounded in time: a file-size limit
// (the full disk of a test: `ulimit -f`), a cut first JSON line, two sweeps on one JSONL, signals at
// random moments of a sweep, and a signal to a command that reads a FIFO nobody writes. The
// promise each checks: what was measured is kept, the file stays resumable, one `error:` line.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "cli_runner.h"
#include "diffbench/core/files.h"

using namespace diffbench;
using namespace diffbench::testing;

namespace {

const std::string kFaultSweep = std::string(DIFFBENCH_BIN) + " sweep --unet " + kModels +
                           "tiny.pt --sampler ddim --steps 1,2,3,4 --shape 1,4,8,8 --repeat 1 --warmup 0 --threads 1 -q";

int run_shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The steps of every cell a JSONL file holds, in file order (a cut last line left out).
std::vector<int> jsonl_steps(const std::string& path) {
  std::vector<int> steps;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto doc = nlohmann::json::parse(line, nullptr, false);
    if (!doc.is_discarded()) steps.push_back(doc["runs"][0]["config"]["steps"]);
  }
  return steps;
}

// Complete a JSONL with --resume (run afresh when the sweep stopped before it made the file); the
// cells it then holds, sorted.
std::vector<int> resumed_cells(const std::string& jsonl, const std::string& sweep = kFaultSweep) {
  struct stat st {};
  const std::string resume = stat(jsonl.c_str(), &st) == 0 ? " --resume " + jsonl : "";
  EXPECT_EQ(run_shell(sweep + " --jsonl " + jsonl + resume + " 2>/dev/null"), 0);
  std::vector<int> steps = jsonl_steps(jsonl);
  std::sort(steps.begin(), steps.end());
  return steps;
}

int leftover_temporaries(const std::string& dir) { return run_shell("ls " + dir + " | grep -q '\\.tmp\\.'") == 0; }

// A background process started by `command`; its pid.
int start_background(const std::string& command) {
  FILE* pipe = popen((command + " >/dev/null 2>&1 & echo $!").c_str(), "r");
  int pid = -1;
  if (pipe && std::fscanf(pipe, "%d", &pid) != 1) pid = -1;
  if (pipe) pclose(pipe);
  return pid;
}

const std::vector<int> kAllFaultCells = {1, 2, 3, 4};

}  // namespace

TEST(FaultInjection, AFileSizeLimitEndsTheSweepInOneLineKeepingEveryMeasuredCell) {
  // Lines are about 6 KB: under a 16 KiB limit (32 blocks of sh's 512 bytes) two fit, a later
  // cell's append fails (EFBIG; before #42: SIGXFSZ killed the process, rc 153, a .tmp left, no line).
  const std::string dir = scratch_dir("fault_fsize");
  const int code = run_shell("(ulimit -f 32; exec " + kFaultSweep + " --jsonl " + dir + "/s.jsonl --csv -) > " + dir +
                         "/cells.csv.part 2> " + dir + "/err; r=$?; cat " + dir + "/cells.csv.part > " + dir +
                         "/cells.csv; exit $r");
  EXPECT_EQ(code, 1);
  const std::string err = slurp(dir + "/err");
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find("error: "), std::string::npos) << err;
  EXPECT_NE(err.find("File too large"), std::string::npos) << err;
  EXPECT_NE(err.find("the sweep stopped after that cell"), std::string::npos) << err;
  // Every cell measured is in the CSV (a header, then one row a cell); the JSONL holds all but the
  // last, whose append failed and was cut back off, so the file stays whole.
  const std::string csv = slurp(dir + "/cells.csv");
  const int measured = static_cast<int>(std::count(csv.begin(), csv.end(), '\n')) - 1;
  EXPECT_TRUE(measured >= 2 && measured < 4) << csv;
  std::vector<int> kept(kAllFaultCells.begin(), kAllFaultCells.begin() + std::max(0, measured - 1));
  EXPECT_EQ(jsonl_steps(dir + "/s.jsonl"), kept);
  const std::string text = slurp(dir + "/s.jsonl");
  EXPECT_TRUE(text.empty() || text.back() == '\n');
  EXPECT_FALSE(leftover_temporaries(dir));
  EXPECT_EQ(resumed_cells(dir + "/s.jsonl"), kAllFaultCells);  // the cut third line is dropped and every cell follows
}

TEST(FaultInjection, ACutFirstLineIsResumedAndRefusedBySweepsThatDoNotResumeIt) {
  // #42: a disk filling up inside the first line made the file unresumable forever.
  const std::string dir = scratch_dir("fault_cut_first");
  ASSERT_EQ(run_shell(kFaultSweep + " --jsonl " + dir + "/whole.jsonl"), 0);
  const std::string whole = slurp(dir + "/whole.jsonl");
  write_file_atomically(dir + "/s.jsonl", whole.substr(0, 100));
  CliResult merge = run_cli("merge " + dir + "/s.jsonl -o " + dir + "/m.json");
  EXPECT_NE(merge.err.find("line 1 is cut off"), std::string::npos) << merge.err;
  // A sweep that does not resume it would glue its lines onto the fragment: refused.
  EXPECT_EQ(run_shell(kFaultSweep + " --jsonl " + dir + "/s.jsonl 2>/dev/null"), 2);
  EXPECT_EQ(slurp(dir + "/s.jsonl"), whole.substr(0, 100));
  EXPECT_EQ(resumed_cells(dir + "/s.jsonl"), kAllFaultCells);
  // A --resume file that is not there is a usage error, and the lock creates no file in its place.
  EXPECT_EQ(run_shell(kFaultSweep + " --resume " + dir + "/none.jsonl 2>/dev/null"), 2);
  struct stat st {};
  EXPECT_NE(stat((dir + "/none.jsonl").c_str(), &st), 0);
}

TEST(FaultInjection, ASecondSweepOnAJsonlBeingWrittenIsRefused) {
  // #42: two sweeps appending to one JSONL both wrote every cell.
  const std::string dir = scratch_dir("fault_two_writers");
  const std::string slow = std::string(DIFFBENCH_BIN) + " sweep --unet " + kModels +
                           "small.pt --sampler ddim --steps 1,2,3,4,5,6,7,8 --repeat 20 --warmup 0 --threads 1 -q";
  const int pid = start_background(slow + " --jsonl " + dir + "/s.jsonl");
  ASSERT_GT(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (jsonl_steps(dir + "/s.jsonl").empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CliResult second = run_cli_binary(DIFFBENCH_BIN, "sweep --unet " + kModels +
                                                       "small.pt --sampler ddim --steps 1,2,3,4,5,6,7,8 --repeat 20 "
                                                       "--warmup 0 --threads 1 -q --jsonl " +
                                                       dir + "/s.jsonl --resume " + dir + "/s.jsonl");
  kill(pid, SIGTERM);
  while (kill(pid, 0) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(second.code, 2) << second.err;
  EXPECT_NE(second.err.find("is being written by another sweep right now"), std::string::npos) << second.err;
  std::vector<int> steps = jsonl_steps(dir + "/s.jsonl");
  EXPECT_EQ(std::set<int>(steps.begin(), steps.end()).size(), steps.size());  // no cell twice
}

TEST(FaultInjection, SignalsAtRandomMomentsOfASweepLoseNothingAndResumeCompletes) {
  // Cells of about 0.3 s each (small.pt, 2 repeats), a signal somewhere in the first 2.5 s.
  const std::string sweep = std::string(DIFFBENCH_BIN) + " sweep --unet " + kModels +
                            "small.pt --sampler ddim --steps 1,2,3,4 --repeat 2 --warmup 0 --threads 1 -q";
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> delay_ms(300, 2500);
  for (int attempt = 0; attempt < 4; ++attempt) {
    const std::string dir = scratch_dir("fault_signal_" + std::to_string(attempt));
    const int pid = start_background("exec " + sweep + " --jsonl " + dir + "/s.jsonl --json " + dir + "/s.json");
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    kill(pid, attempt % 2 ? SIGTERM : SIGINT);
    while (kill(pid, 0) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(leftover_temporaries(dir)) << attempt;
    const std::vector<int> before = jsonl_steps(dir + "/s.jsonl");
    EXPECT_EQ(resumed_cells(dir + "/s.jsonl", sweep), kAllFaultCells) << attempt << " (" << before.size() << " cells before)";
  }
}

TEST(FaultInjection, CommandsThatOnlyReadStopAtTheFirstSignal) {
  // #42: merge, compare and history let the first SIGINT/SIGTERM pass; a FIFO nobody writes holds
  // them in their read. (SIGTERM: a shell's background job starts with SIGINT ignored.)
  const std::string dir = scratch_dir("fault_read_signal");
  ASSERT_EQ(run_shell("mkfifo " + dir + "/fifo.json"), 0);
  ASSERT_EQ(run_shell(kFaultSweep + " --json " + dir + "/b.json"), 0);
  for (const std::string& command : {"compare " + dir + "/fifo.json " + dir + "/b.json", "merge " + dir + "/fifo.json -o " +
                                         dir + "/m.json", "history " + dir + "/b.json " + dir + "/fifo.json"}) {
    const int pid = start_background(std::string(DIFFBENCH_BIN) + " " + command);
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    kill(pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (kill(pid, 0) == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const bool stopped = kill(pid, 0) != 0;
    if (!stopped) kill(pid, SIGKILL);
    EXPECT_TRUE(stopped) << command;
  }
}
