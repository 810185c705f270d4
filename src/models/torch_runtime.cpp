// LibTorch version differences and process-wide settings (torch_runtime.h says why each exists).
#include "models/torch_runtime.h"

#include <filesystem>
#include <mutex>

#include <torch/version.h>

// torch::jit::overrideCanFuseOnCPU is exported by libtorch_cpu in 1.13 and 2.x, but Debian's headers
// leave out the file that declares it (pip's ship it): declared here when the header is missing.
#if __has_include(<torch/csrc/jit/codegen/fuser/interface.h>)
#include <torch/csrc/jit/codegen/fuser/interface.h>
#else
#include <c10/macros/Export.h>
namespace torch::jit {
TORCH_API void overrideCanFuseOnCPU(bool value);
}  // namespace torch::jit
#endif

namespace diffbench {

void configure_torch_runtime() {
  static std::once_flag once;
  std::call_once(once, [] { torch::jit::overrideCanFuseOnCPU(false); });
}

bool inference_rewrite_safe() {
#if TORCH_VERSION_MAJOR >= 2
  std::error_code ec;
  return std::filesystem::exists("/sys/devices/system/cpu/cpu0/cache/index0/size", ec);
#else
  return true;
#endif
}

}  // namespace diffbench
