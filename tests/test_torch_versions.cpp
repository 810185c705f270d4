// What differs between the supported LibTorch versions (docs/builds.md), seen from the real binary:
// each build is held to its own version's behaviour, so neither build skips a test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include <torch/version.h>

#include "cli_runner.h"

using namespace diffbench::testing;

// fp16 on the CPU: LibTorch 1.13 lacks the kernels (a usage error naming the dtypes that work);
// LibTorch 2.x has them, so the same command runs.
TEST(TorchVersions, Fp16OnTheCpuIsRefusedOnlyWhereLibTorchLacksItsKernels) {
  CliResult r = run_cli("--warmup 0 --repeat 1 --threads 1 --sampler ddim --steps 4 -q --unet " + kModels +
                        "tiny.pt --dtype fp16");
  if (TORCH_VERSION_MAJOR < 2) {
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("use --dtype fp32 or bf16"), std::string::npos) << r.err;
  } else {
    EXPECT_EQ(r.code, 0) << r.err;
  }
}

// An AOTInductor package (.pt2): LibTorch 1.13 cannot load one (one line naming the build that can);
// LibTorch 2.6+ opens it and refuses one without diffbench's manifest of what it was compiled for.
// (The packages themselves are compiled at test time and run by Aoti.*, tests/python/test_aoti.py.)
TEST(TorchVersions, APackageIsRefusedByLibTorch113AndNeedsItsManifestAfter) {
  const std::string dir = scratch_dir("pt2");
  const std::string package = dir + "/copy.pt2";  // a TorchScript file under a package's name
  std::system(("cp " + kModels + "tiny.pt " + package).c_str());
  CliResult r = run_cli("--warmup 0 --repeat 1 --threads 1 --sampler ddim --steps 2 -q --unet " + package);
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  if (TORCH_VERSION_MAJOR < 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR < 6)) {
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_NE(r.err.find("is an AOTInductor package (.pt2), which LibTorch"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("export TorchScript"), std::string::npos) << r.err;
  } else {
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_NE(r.err.find("without diffbench's manifest of what it was compiled for"), std::string::npos) << r.err;
  }
  std::system(("rm -rf " + dir).c_str());
}
