// What differs between the supported LibTorch versions (docs/builds.md), seen from the real binary:
// each build is held to its own version's behaviour, so neither build skips a test.
#include <gtest/gtest.h>

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
