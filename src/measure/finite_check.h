#pragma once
// NaN/Inf detection after every step at the lowest cost the device allows. CPU: one sum per step
// (a sum is finite exactly when no element is NaN/Inf, barring overflow, which an element-wise
// re-check rules out). CUDA: the sums stay on the device and are read once per repeat, so no step
// waits for a copy to the host.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <string>

#include "diffbench/schedule/sampler.h"

namespace diffbench {

class FiniteCheck {
 public:
  FiniteCheck(const Plan& plan, c10::Device device) : plan_(plan), device_(device) {}
  /// Before each repeat.
  void start();
  /// After step i; NonFiniteError at once on the CPU.
  void after_step(int i, const at::Tensor& latents);
  /// After the last step; NonFiniteError naming the first bad step on CUDA.
  void after_repeat();

 private:
  const Plan& plan_;
  c10::Device device_;
  at::Tensor sums_;
};

/// The VAE's output for `latents` (#42: all-NaN, 2-channel and rank-3 images passed as ok and
/// were written as PNGs): a wrong rank, batch or channel count is a RuntimeError naming the file (a
/// property of the model); NaN/Inf is a NonFiniteError at step `steps` (the decode after the last
/// step), so the run is recorded as failed there.
void check_decoded(const at::Tensor& images, const at::Tensor& latents, const std::string& vae_path, int steps);

}  // namespace diffbench
