#include "measure/finite_check.h"

#include <cmath>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "diffbench/core/errors.h"

namespace diffbench {
namespace {

NonFiniteError non_finite(const Plan& plan, int i) {
  return NonFiniteError(
      fmt::format("latents became NaN/Inf at step {} (t={}); the model output is not finite", i, plan.timesteps[i]), i);
}

}  // namespace

void FiniteCheck::start() {
  if (device_.is_cuda()) sums_ = at::zeros({plan_.steps()}, at::TensorOptions().dtype(at::kFloat).device(device_));
}

void FiniteCheck::after_step(int i, const at::Tensor& latents) {
  if (device_.is_cuda()) {
    sums_[i] = latents.sum();
  } else if (!std::isfinite(latents.sum().item<float>()) && !latents.isfinite().all().item<bool>()) {
    throw non_finite(plan_, i);
  }
}

void FiniteCheck::after_repeat() {
  if (!device_.is_cuda()) return;
  at::Tensor bad = (~sums_.isfinite()).nonzero();  // the one host read of this repeat
  if (bad.numel() > 0) throw non_finite(plan_, static_cast<int>(bad[0][0].item<int64_t>()));
}

}  // namespace diffbench
