// Faults: signals stop a run promptly and keep finished results; readers survive arbitrary bytes;
// a full disk never replaces a good file with a truncated one.

#include <algorithm>
#include <chrono>
#include <random>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "gate_reports.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/files.h"
#include "diffbench/core/npy.h"
#include "diffbench/core/sha256.h"
#include "diffbench/measure/memory_guard.h"
#include "diffbench/measure/resolve.h"
#include "diffbench/schedule/scheduler_config.h"

using namespace diffbench;
using namespace diffbench::testing;

TEST(Faults, AFailedWriteKeepsThePreviousFile) {
  // The write fails for real, with no mount and no privilege: a file-size limit (ulimit -f, in KiB)
  // with SIGXFSZ ignored makes write() fail with EFBIG once the report passes 16 KiB.
  std::string dir = scratch_dir("fsize");
  ASSERT_EQ(run_cli(kTiny + "--sampler ddim --steps 4 --json " + dir + "/r.json").code, 0);
  std::string good = slurp(dir + "/r.json");
  ASSERT_LT(good.size(), 16384u) << "the first report must fit under the limit";
  CliResult r = run_cli_binary("trap '' XFSZ; ulimit -f 16; exec " DIFFBENCH_BIN,
                               kTiny + "--sampler ddim --steps 50 --repeat 3 --json " + dir + "/r.json");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  EXPECT_EQ(slurp(dir + "/r.json"), good);
  EXPECT_EQ(std::system(("ls " + dir + " | grep -q tmp").c_str()) == 0, false) << "temporary file left behind";
}

TEST(Faults, DevFullIsWrittenInPlaceAndReported) {
  CliResult r = run_cli("--unet " + kModels +
                        "tiny.pt --threads 1 --warmup 0 --repeat 1 --sampler ddim --steps 4 --json /dev/full");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("ddim"), std::string::npos);  // the table was printed before the write failed
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_EQ(std::system("test -c /dev/full"), 0);  // still the device, not a renamed-over file
}

TEST(Faults, AFailedOutputDoesNotStopTheOthersOfACommand) {
  // compare writes --markdown before --json: one output path tries every file, then reports the
  // first failure (before: the full disk stopped it at the Markdown and the JSON was never written).
  const std::string dir = scratch_dir("other_outputs");
  const std::string base = write(dir, "a.json", report_of({run_of(10, "p", kFive)}));
  const std::string updated = write(dir, "b.json", report_of({run_of(10, "q", kFive)}));
  CliResult r = run_cli("compare " + base + " " + updated + " --markdown /dev/full --json " + dir + "/c.json");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("ddim"), std::string::npos);  // the table came first
  EXPECT_TRUE(nlohmann::json::parse(slurp(dir + "/c.json"), nullptr, false).is_object());
}

TEST(Faults, ShapeTooLargeForMemoryIsRefusedUpFront) {
  // The rule, whatever this machine has: 1x4x64x64 fp32 latents are 64 KiB, 2 MiB with activations.
  EXPECT_EQ(memory_refusal({1, 4, 64, 64}, true, 4.0 * (1 << 20)), "");
  std::string refused = memory_refusal({1, 4, 64, 64}, true, 1.0 * (1 << 20));
  EXPECT_NE(refused.find("shape [1, 4, 64, 64] needs about 0.00195 GiB"), std::string::npos) << refused;
  EXPECT_EQ(memory_refusal({1, 4, 64, 64}, false, 1.0 * (1 << 20)), "");  // a GPU's memory: latents only
  // And the binary refuses before any work: 2^62 bytes of latents fit on no machine.
  CliResult r = run_cli("--unet " + kModels + "tiny.pt --sampler ddim --shape 1048576,4,1048576,1048576");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("GiB of memory is available"), std::string::npos) << r.err;
}

TEST(Faults, ANanRunFailsWhileTheOtherSamplersStillRun) {
  std::string dir = scratch_dir("nan_table");
  CliResult r =
      run_cli("--unet " + kData + "nan_after_500.pt --shape 1,4,8,8 --threads 1 --warmup 0 --repeat 1 -q --json " +
              dir + "/r.json");
  EXPECT_EQ(r.code, 1);
  auto runs = nlohmann::json::parse(slurp(dir + "/r.json"))["runs"];
  ASSERT_EQ(runs.size(), 6u);  // every sampler ran and is recorded
  // Each with its own status: turbo's one step (t = 999) never reaches t < 500 and succeeds with
  // its times; every other sampler reaches it and fails at a step.
  for (const auto& run : runs) {
    if (run["config"]["sampler"] == "turbo") {
      EXPECT_EQ(run["status"], "ok");
      EXPECT_EQ(run["repeats"].size(), 1u);
    } else {
      EXPECT_EQ(run["status"], "failed") << run["config"]["sampler"];
      EXPECT_TRUE(run["failed_step"].is_number_integer()) << run["config"]["sampler"];
    }
  }
}

TEST(Faults, NpyRoundTripsAndReadsFloat64) {
  at::Tensor t = at::randn({2, 3, 4});
  EXPECT_TRUE(at::equal(from_npy(to_npy(t), "t"), t));
  // A float64 file, as NumPy writes by default: the same header with '<f8', then 8-byte values.
  const std::string f4 = to_npy(t);
  std::string header = f4.substr(0, f4.size() - static_cast<size_t>(t.nbytes()));
  ASSERT_NE(header.find("'<f4'"), std::string::npos);
  header.replace(header.find("'<f4'"), 5, "'<f8'");
  at::Tensor wide = t.to(at::kDouble).contiguous() * (1 + 1e-12);  // not representable in float32
  at::Tensor read = from_npy(header + std::string(static_cast<const char*>(wide.data_ptr()), wide.nbytes()), "f8");
  EXPECT_EQ(read.sizes(), t.sizes());
  EXPECT_TRUE(at::allclose(read.to(at::kDouble), wide, 1e-6, 1e-7));
  EXPECT_FALSE(at::equal(read.to(at::kDouble), at::zeros_like(wide)));
  EXPECT_EQ(to_npy(at::zeros({5})).substr(0, 6), "\x93NUMPY");
  EXPECT_EQ(to_npy(t).size() % 16, (2u * 3 * 4 * 4) % 16);  // header padded to 64 bytes
}

TEST(Faults, NpyMalformedInputsAreUsageErrors) {
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

// Randomised fuzzing bounded by a number of cases (not by time, so that a loaded machine runs the
// same cases as an idle one): case i is mutated from its own seed, base + i, so a failure names
// the one seed that reproduces it (DIFFBENCH_FUZZ_SEED sets the base). Mutated inputs may be
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
void fuzz(const std::vector<std::string>& seeds, F&& target, unsigned cases) {
  const char* env = std::getenv("DIFFBENCH_FUZZ_SEED");
  const unsigned base = env && *env ? static_cast<unsigned>(std::stoul(env)) : 20261128u;
  std::fprintf(stderr, "fuzz: %u cases, seeds %u..%u (DIFFBENCH_FUZZ_SEED=%u reproduces them)\n", cases, base,
               base + cases - 1, base);
  for (unsigned i = 0; i < cases; ++i) {
    std::mt19937 rng(base + i);
    std::string input = mutate(seeds[i % seeds.size()], rng);
    try {
      target(input);
    } catch (const UsageError&) {
      // a clear rejection is the expected outcome
    } catch (const std::exception& e) {
      ADD_FAILURE() << "case " << i << " (seed " << base + i << ") threw " << e.what();
      return;
    }
  }
}

}  // namespace

TEST(Faults, FuzzConfigReaderSurvivesArbitraryBytes) {
  std::vector<std::string> seeds = {slurp(DIFFBENCH_SOURCE_DIR "/configs/sd15.json"),
                                    slurp(DIFFBENCH_SOURCE_DIR "/configs/lcm-sd15.json"),
                                    R"({"trained_betas": [0.1, 0.2, 0.3], "steps_offset": 0})"};
  fuzz(
      seeds, [](const std::string& in) { parse_scheduler_config(in, "fuzz", nullptr); }, 100000);
}

TEST(Faults, FuzzNpyReaderSurvivesArbitraryBytes) {
  std::vector<std::string> seeds = {to_npy(at::randn({1, 8, 32})), to_npy(at::randn({3})),
                                    to_npy(at::zeros({2, 0, 4}))};
  fuzz(
      seeds, [](const std::string& in) { from_npy(in, "fuzz"); }, 100000);
}

TEST(Faults, Sha256KnownAnswersAndStreamedFiles) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),  // two blocks (FIPS 180-2)
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // A file larger than the 1 MiB read chunk, against coreutils.
  std::string path = scratch_dir("sha") + "/big.bin";
  std::string data(3 * (1 << 20) + 123, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 2654435761u) >> 13);
  write_file_atomically(path, data);
  FILE* pipe = popen(("sha256sum " + path).c_str(), "r");
  char expected[65] = {};
  ASSERT_TRUE(pipe);
  ASSERT_EQ(fscanf(pipe, "%64s", expected), 1);
  pclose(pipe);
  EXPECT_EQ(sha256_file(path), expected);
  EXPECT_EQ(sha256_hex(data), expected);
}

TEST(Faults, ModelSavedByANewerTorchSaysToBuildAgainstItsLibTorch) {
  // tiny.pt with its archive's format version raised past what this LibTorch reads, as a file
  // from a newer torch would be.
  std::string dir = scratch_dir("newer_torch");
  std::string make = DIFFBENCH_PYTHON " -c \"import zipfile; src = zipfile.ZipFile('" + kModels +
                     "tiny.pt'); dst = zipfile.ZipFile('" + dir +
                     "/newer.pt', 'w'); [dst.writestr(i, b'99\\n' if i.filename.endswith('/version') else "
                     "src.read(i)) for i in src.infolist()]; dst.close()\"";
  ASSERT_EQ(std::system(make.c_str()), 0);
  CliResult r = run_cli("--unet " + dir + "/newer.pt --sampler ddim --steps 2 --warmup 0 --repeat 1 --threads 1 -q");
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("saved by a newer torch"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("build diffbench against that torch's LibTorch"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
}

TEST(Faults, ConditioningNarrowerThanTheUnetsCrossAttentionIsRefused) {
  std::string dir = scratch_dir("cond_width");
  std::string make =
      DIFFBENCH_PYTHON " -c \"import numpy; numpy.save('" + dir + "/c.npy', numpy.zeros((1, 8, 16), numpy.float32))\"";
  ASSERT_EQ(std::system(make.c_str()), 0);
  CliResult r = run_cli("--unet " + kModels + "tiny_cond.pt --sampler ddim --steps 2 --cond " + dir +
                        "/c.npy --warmup 0 --repeat 1 --threads 1 -q");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("is 16 wide, but"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("takes encoder_hidden_states 32 wide"), std::string::npos) << r.err;
}

TEST(Faults, ABatchBeyondMemoryIsRefusedByAMeasuredForwardBeforeTheFullCall) {
  // #42: the 32x estimate let tiny.pt at batch 3000 (64x64) into the kernel's OOM killer; it needs
  // about 250x. A batch that passes the estimate (64x the latents fits the memory available now) is
  // measured at batch 1 and refused with both numbers, before the full-size call.
  const double latent_bytes = 4.0 * 4 * 64 * 64;
  const int64_t batch = static_cast<int64_t>(available_memory_bytes() / (latent_bytes * 64));
  CliResult r = run_cli("--unet " + kModels + "tiny.pt --sampler ddim --steps 1 --threads 2 --shape " +
                        std::to_string(batch) + ",4,64,64");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("(measured at batches 1 and 3)"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}
