// Model output -> (x0, eps), for the epsilon, v (Salimans & Ho 2022) and sample parameterisations.
#include "diffbench/prediction.h"

#include <ATen/ATen.h>

namespace diffbench {

Prediction predict_from_alpha(const at::Tensor& out, const at::Tensor& x, float alpha_prod,
                              const std::string& type) {
  float sqrt_a = std::sqrt(alpha_prod), sqrt_b = std::sqrt(1.0f - alpha_prod);
  if (type == "epsilon") return {(x - sqrt_b * out) / sqrt_a, out};
  if (type == "v_prediction") return {sqrt_a * x - sqrt_b * out, sqrt_a * out + sqrt_b * x};
  return {out, (x - sqrt_a * out) / sqrt_b};  // sample
}

at::Tensor x0_from_sigma(const at::Tensor& out, const at::Tensor& x, float sigma, const std::string& type) {
  if (type == "epsilon") return x - sigma * out;
  if (type == "v_prediction") {
    float s2 = sigma * sigma + 1.0f;
    return out * (-sigma / std::sqrt(s2)) + x / s2;
  }
  return out;  // sample
}

at::Tensor maybe_clip(const at::Tensor& x0, bool clip, double range) {
  return clip ? x0.clamp(-range, range) : x0;
}

}  // namespace diffbench
