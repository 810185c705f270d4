// LibTorch version differences and process-wide settings (torch_runtime.h says why each exists).
#include "models/torch_runtime.h"

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <set>

#include <ATen/ATen.h>
#include <fmt/format.h>
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
namespace {

std::mutex onednn_mutex;
std::set<c10::ScalarType> onednn_checked;
std::string onednn_off;

// The worst relative error of `dtype` convolutions against fp32 over a few layer shapes (inputs
// from sin and cos: the seeded generators stay untouched); 0 where the dtype has no CPU convolution.
double low_precision_conv_error(c10::ScalarType dtype) {
  struct Shape {
    int64_t in, out;
  };
  double worst = 0;
  try {
    for (const Shape s : {Shape{32, 4}, Shape{32, 3}, Shape{4, 32}, Shape{64, 64}}) {
      at::Tensor x = at::sin(at::arange(2 * s.in * 64, at::kFloat) * 0.37).reshape({2, s.in, 8, 8});
      at::Tensor w = at::cos(at::arange(s.out * s.in * 9, at::kFloat) * 0.11).reshape({s.out, s.in, 3, 3}) * 0.1;
      at::Tensor exact = at::conv2d(x, w, {}, 1, 1);
      at::Tensor low = at::conv2d(x.to(dtype), w.to(dtype), {}, 1, 1).to(at::kFloat);
      worst = std::max(worst, ((low - exact).norm() / exact.norm()).item<double>());
    }
  } catch (const std::exception&) {
    return 0;  // no such kernel here: the run itself says so
  }
  return worst;
}

}  // namespace

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

void guard_low_precision_convolutions(c10::ScalarType dtype) {
  if (dtype != at::kBFloat16 && dtype != at::kHalf) return;
  std::lock_guard<std::mutex> lock(onednn_mutex);
  if (!at::hasMKLDNN() || !at::globalContext().userEnabledMkldnn() || !onednn_checked.insert(dtype).second) return;
  const double error = low_precision_conv_error(dtype);
  if (error <= 0.05) return;
  at::globalContext().setUserEnabledMkldnn(false);
  onednn_off = fmt::format(
      "LibTorch {}'s oneDNN computed {} convolutions wrong on this CPU (relative error {:.2f} against fp32 on a "
      "probe, where 0.003 is normal), so oneDNN is off in this process: the results are right and slower",
      TORCH_VERSION, c10::toString(dtype), error);
}

std::string onednn_off_reason() {
  std::lock_guard<std::mutex> lock(onednn_mutex);
  return onednn_off;
}

}  // namespace diffbench
