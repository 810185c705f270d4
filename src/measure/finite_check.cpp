#include "measure/finite_check.h"

#include <cmath>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

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

void check_decoded(const at::Tensor& images, const at::Tensor& latents, const std::string& vae_path, int steps) {
  const int64_t channels = images.dim() == 4 ? images.size(1) : 0;
  if (images.dim() != 4 || images.size(0) != latents.size(0) || (channels != 1 && channels != 3 && channels != 4)) {
    throw RuntimeError(fmt::format("VAE '{}' decoded latents [{}] to shape [{}]; diffbench needs images [batch {}, "
                                   "1, 3 or 4 channels, height, width]",
                                   vae_path, fmt::join(latents.sizes(), ", "), fmt::join(images.sizes(), ", "),
                                   latents.size(0)));
  }
  if (!images.sum().isfinite().item<bool>() && !images.isfinite().all().item<bool>())
    throw NonFiniteError(fmt::format("the VAE decode gave NaN/Inf images (after step {})", steps), steps);
}

}  // namespace diffbench
