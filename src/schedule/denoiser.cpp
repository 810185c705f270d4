// Model output -> (x0, eps), for the epsilon, v (Salimans & Ho 2022) and sample parameterisations.
#include "diffbench/schedule/denoiser.h"

#include <cmath>

#include <ATen/ATen.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/names.h"

namespace diffbench {

Denoiser::Denoiser(const SchedulerConfig& config)
    : type_(config.prediction_type), clip_(config.clip_sample), range_(config.clip_sample_range) {}

Prediction Denoiser::from_alpha_sigma(const at::Tensor& out, const at::Tensor& x, float alpha, float sigma) const {
  switch (type_) {  // the x0 expressions are x0_from_alpha_sigma's
    case PredictionType::epsilon: return {(x - sigma * out) / alpha, out};
    case PredictionType::v_prediction: return {alpha * x - sigma * out, alpha * out + sigma * x};
    case PredictionType::sample: break;
  }
  return {out, (x - alpha * out) / sigma};
}

at::Tensor Denoiser::x0_from_alpha_sigma(const at::Tensor& out, const at::Tensor& x, float alpha, float sigma) const {
  switch (type_) {
    case PredictionType::epsilon: return (x - sigma * out) / alpha;
    case PredictionType::v_prediction: return alpha * x - sigma * out;
    case PredictionType::sample: break;
  }
  return out;
}

Prediction Denoiser::from_alpha_prod(const at::Tensor& out, const at::Tensor& x, float alpha_prod) const {
  return from_alpha_sigma(out, x, std::sqrt(alpha_prod), std::sqrt(1.0f - alpha_prod));
}

at::Tensor Denoiser::x0_from_alpha_prod(const at::Tensor& out, const at::Tensor& x, float alpha_prod) const {
  return x0_from_alpha_sigma(out, x, std::sqrt(alpha_prod), std::sqrt(1.0f - alpha_prod));
}

at::Tensor Denoiser::x0_from_sigma(const at::Tensor& out, const at::Tensor& x, float sigma) const {
  switch (type_) {
    case PredictionType::epsilon: return x - sigma * out;
    case PredictionType::v_prediction: {
      float s2 = sigma * sigma + 1.0f;
      return out * (-sigma / std::sqrt(s2)) + x / s2;
    }
    case PredictionType::sample: break;
  }
  return out;
}

at::Tensor Denoiser::scale_input(const at::Tensor& x, float sigma) { return x / std::sqrt(sigma * sigma + 1.0f); }

at::Tensor Denoiser::clip(const at::Tensor& x0) const { return clip_ ? x0.clamp(-range_, range_) : x0; }

}  // namespace diffbench
