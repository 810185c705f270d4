#pragma once
/// Converting a model's output (epsilon, v or x0) into the x0 and epsilon predictions.
#include <string>

#include <ATen/core/Tensor.h>

namespace diffbench {

/// The denoised estimate and the noise estimate at one step.
struct Prediction {
  at::Tensor x0;   ///< predicted clean sample
  at::Tensor eps;  ///< predicted noise
};

/// DDPM/DDIM/LCM form: x_t = sqrt(a) x0 + sqrt(1 - a) eps, with a = alphas_cumprod[t] (float32).
Prediction predict_from_alpha(const at::Tensor& model_output, const at::Tensor& x, float alpha_prod,
                              const std::string& prediction_type);

/// Euler form on unscaled latents x = x0 + sigma eps: the x0 prediction.
at::Tensor x0_from_sigma(const at::Tensor& model_output, const at::Tensor& x, float sigma,
                         const std::string& prediction_type);

/// Clamp x0 to [-range, range] when the config asks for it (clip_sample).
at::Tensor maybe_clip(const at::Tensor& x0, bool clip, double range);

}  // namespace diffbench
