// Faults: signals stop a run promptly and keep finished results; readers survive arbitrary bytes;
// a full disk never replaces a good file with a truncated one.
#include <sys/mount.h>

#include <chrono>
#include <random>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "diffbench/errors.h"
#include "diffbench/io.h"
#include "diffbench/scheduler_config.h"

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
                       std::to_string(delay_s) + "; kill -" + signal + " $pid; start=$(date +%s%N); wait $pid; code=$?; " +
                       "end=$(date +%s%N); echo $code $start $end";
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
  Stopped r = interrupt("--unet " + kModels + "tiny.pt --threads 1 --warmup 0 --repeat 20 --sampler ddpm --steps 1000 "
                            "--json " + dir + "/r.json", "INT", 4.0);
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

TEST(Faults, FullDiskKeepsThePreviousFile) {
  std::string dir = scratch_dir("tinyfs");
  if (mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=64k") != 0) GTEST_SKIP() << "cannot mount a tmpfs here (not root?)";
  ASSERT_EQ(run_cli(kTiny + "--sampler ddim --steps 4 --json " + dir + "/r.json").code, 0);
  std::string good = slurp(dir + "/r.json");
  std::system(("head -c 60000 /dev/zero > " + dir + "/filler 2>/dev/null").c_str());
  CliResult r = run_cli(kTiny + "--sampler ddim --steps 50 --repeat 3 --json " + dir + "/r.json");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(dir + "/r.json"), good);
  EXPECT_EQ(std::system(("ls " + dir + " | grep -q tmp").c_str()) == 0, false) << "temporary file left behind";
  umount(dir.c_str());
}

TEST(Faults, DevFullIsWrittenInPlaceAndReported) {
  CliResult r = run_cli("--unet " + kModels + "tiny.pt --threads 1 --warmup 0 --repeat 1 --sampler ddim --steps 4 --json /dev/full");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("ddim"), std::string::npos);  // the table was printed before the write failed
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_EQ(std::system("test -c /dev/full"), 0);    // still the device, not a renamed-over file
}

TEST(Faults, ShapeTooLargeForMemoryIsRefusedUpFront) {
  CliResult r = run_cli("--unet " + kModels + "tiny.pt --sampler ddim --shape 4096,4,512,512");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("GiB of memory is available"), std::string::npos) << r.err;
}

TEST(Faults, ANanRunFailsWhileTheOtherSamplersStillRun) {
  std::string dir = scratch_dir("nan_table");
  CliResult r = run_cli("--unet " + kData + "nan_after_500.pt --shape 1,4,8,8 --threads 1 --warmup 0 --repeat 1 -q --json " + dir + "/r.json");
  EXPECT_EQ(r.code, 1);
  auto runs = nlohmann::json::parse(slurp(dir + "/r.json"))["runs"];
  EXPECT_EQ(runs.size(), 6u);  // every sampler ran and is recorded
  EXPECT_EQ(runs[0]["status"], "failed");
}

TEST(Npy, RoundTripsAndReadsFloat64) {
  at::Tensor t = at::randn({2, 3, 4});
  EXPECT_TRUE(at::equal(from_npy(to_npy(t), "t"), t));
  EXPECT_EQ(to_npy(at::zeros({5})).substr(0, 6), "\x93NUMPY");
  EXPECT_EQ(to_npy(t).size() % 16, (2u * 3 * 4 * 4) % 16);  // header padded to 64 bytes
}

TEST(Npy, MalformedInputsAreUsageErrors) {
  std::string good = to_npy(at::ones({2, 2}));
  EXPECT_THROW(from_npy("", "x"), UsageError);
  EXPECT_THROW(from_npy("not numpy at all", "x"), UsageError);
  EXPECT_THROW(from_npy(good.substr(0, good.size() - 1), "x"), UsageError);  // truncated data
  std::string int_dtype = good;
  int_dtype.replace(int_dtype.find("<f4"), 3, "<i4");
  EXPECT_THROW(from_npy(int_dtype, "x"), UsageError);
  std::string fortran = good;
  fortran.replace(fortran.find("False"), 5, "True ");
  EXPECT_THROW(from_npy(fortran, "x"), UsageError);
}

// Bounded-time randomised fuzzing (seeded, so a failure reproduces): mutated inputs may be
// rejected with UsageError, and nothing else may happen.
namespace {

std::string mutate(std::string s, std::mt19937& rng) {
  std::uniform_int_distribution<int> op(0, 4), byte(0, 255);
  int edits = 1 + static_cast<int>(rng() % 8);
  for (int e = 0; e < edits && !s.empty(); ++e) {
    size_t pos = rng() % s.size();
    switch (op(rng)) {
      case 0: s[pos] = static_cast<char>(byte(rng)); break;
      case 1: s.insert(pos, 1, static_cast<char>(byte(rng))); break;
      case 2: s.erase(pos, 1 + rng() % 4); break;
      case 3: s.resize(pos); break;
      default: s.insert(pos, s.substr(rng() % s.size(), 1 + rng() % 16)); break;
    }
  }
  return s;
}

template <typename F>
void fuzz(const std::vector<std::string>& seeds, F&& target, double seconds) {
  std::mt19937 rng(20261128);
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  size_t cases = 0;
  while (std::chrono::steady_clock::now() < end) {
    std::string input = mutate(seeds[cases % seeds.size()], rng);
    try {
      target(input);
    } catch (const UsageError&) {
      // a clear rejection is the expected outcome
    }
    ++cases;
  }
  EXPECT_GT(cases, 100u);
}

}  // namespace

TEST(Fuzz, ConfigReaderSurvivesArbitraryBytes) {
  std::vector<std::string> seeds = {slurp(DIFFBENCH_SOURCE_DIR "/configs/sd15.json"), slurp(DIFFBENCH_SOURCE_DIR "/configs/lcm-sd15.json"),
                                    R"({"trained_betas": [0.1, 0.2, 0.3], "steps_offset": 0})"};
  fuzz(seeds, [](const std::string& in) { parse_scheduler_config(in, "fuzz", nullptr); }, 3.0);
}

TEST(Fuzz, NpyReaderSurvivesArbitraryBytes) {
  std::vector<std::string> seeds = {to_npy(at::randn({1, 8, 32})), to_npy(at::randn({3})), to_npy(at::zeros({2, 0, 4}))};
  fuzz(seeds, [](const std::string& in) { from_npy(in, "fuzz"); }, 3.0);
}
