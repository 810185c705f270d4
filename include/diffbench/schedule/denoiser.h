#pragma once
/// The denoiser adapter (k-diffusion's external.py, stable-diffusion.cpp's Denoiser): the one place
/// where a model's raw output (epsilon, v or x0, per the config's prediction_type) becomes the x0
/// and epsilon predictions, where the Euler family's input scaling lives and where x0 is clipped.
/// Three forms: flow (x = (1 - sigma) x0 + sigma noise; the flow samplers), alpha-based (x = alpha x0 + sigma eps; DDPM, DDIM, LCM, DPM++) and sigma-based on
/// unscaled latents (x = x0 + sigma eps; the Euler family). No sampler looks at the type itself.
#include <string>

#include <ATen/core/Tensor.h>

#include "diffbench/schedule/scheduler_config.h"

namespace diffbench {

/// The denoised estimate and the noise estimate at one step.
struct Prediction {
  at::Tensor x0;  ///< predicted clean sample
  at::Tensor eps;  ///< predicted noise
};

class Denoiser {
 public:
  explicit Denoiser(const SchedulerConfig& config);

  /// Alpha form, x = alpha x0 + sigma eps (alpha, sigma: the step's signal and noise scales).
  Prediction from_alpha_sigma(const at::Tensor& model_output, const at::Tensor& x, float alpha, float sigma) const;
  /// The x0 of from_alpha_sigma alone (no epsilon computed).
  at::Tensor x0_from_alpha_sigma(const at::Tensor& model_output, const at::Tensor& x, float alpha, float sigma) const;
  /// Alpha form from alphas_cumprod a: alpha = sqrt(a), sigma = sqrt(1 - a).
  Prediction from_alpha_prod(const at::Tensor& model_output, const at::Tensor& x, float alpha_prod) const;
  /// The x0 of from_alpha_prod alone.
  at::Tensor x0_from_alpha_prod(const at::Tensor& model_output, const at::Tensor& x, float alpha_prod) const;
  /// Sigma form on unscaled latents x = x0 + sigma eps: the x0 prediction.
  at::Tensor x0_from_sigma(const at::Tensor& model_output, const at::Tensor& x, float sigma) const;
  /// Flow form, x = (1 - sigma) x0 + sigma noise (flow matching): the x0 prediction, x - sigma v for
  /// flow_prediction (v = noise - x0), the output itself for sample. Other types: RuntimeError.
  at::Tensor x0_from_flow(const at::Tensor& model_output, const at::Tensor& x, float sigma) const;
  /// Flow form: the velocity noise - x0, the output itself for flow_prediction, (x - x0) / sigma for sample.
  at::Tensor velocity_from_flow(const at::Tensor& model_output, const at::Tensor& x, float sigma) const;
  /// The model's input in the sigma form: x / sqrt(sigma^2 + 1), the variance-preserving sample.
  static at::Tensor scale_input(const at::Tensor& x, float sigma);
  /// x0 clamped to [-clip_sample_range, clip_sample_range] when the config asks (clip_sample).
  at::Tensor clip(const at::Tensor& x0) const;

 private:
  PredictionType type_;
  bool clip_;
  double range_;
};

}  // namespace diffbench
