// Model output -> (x0, eps), for the epsilon, v (Salimans & Ho 2022) and sample parameterisations,
// and x0 or velocity on the flow-matching path for flow_prediction and sample.
#include "diffbench/schedule/denoiser.h"

#include <cmath>

#include <ATen/ATen.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/names.h"

namespace diffbench {

namespace {

// The forms past the flow one cannot read a velocity: resolve() refuses such runs (plan_for), this
// is the library's own guard.
void refuse_flow(PredictionType type) {
  if (type == PredictionType::flow_prediction) {
    throw RuntimeError("a flow_prediction model needs a flow-matching sampler (flow_euler, flow_heun)");
  }
}

void refuse_non_flow(PredictionType type) {
  if (type != PredictionType::flow_prediction && type != PredictionType::sample) {
    throw RuntimeError(std::string("the flow samplers read flow_prediction or sample models, not ") + name_of(type));
  }
}

}  // namespace

Denoiser::Denoiser(const SchedulerConfig& config)
    : type_(config.prediction_type), clip_(config.clip_sample), range_(config.clip_sample_range) {}

Prediction Denoiser::from_alpha_sigma(const at::Tensor& out, const at::Tensor& x, float alpha, float sigma) const {
  refuse_flow(type_);
  switch (type_) {  // the x0 expressions are x0_from_alpha_sigma's
    case PredictionType::epsilon: return {(x - sigma * out) / alpha, out};
    case PredictionType::v_prediction: return {alpha * x - sigma * out, alpha * out + sigma * x};
    case PredictionType::sample:
    case PredictionType::flow_prediction: break;  // flow: refused above
  }
  return {out, (x - alpha * out) / sigma};
}

at::Tensor Denoiser::x0_from_alpha_sigma(const at::Tensor& out, const at::Tensor& x, float alpha, float sigma) const {
  refuse_flow(type_);
  switch (type_) {
    case PredictionType::epsilon: return (x - sigma * out) / alpha;
    case PredictionType::v_prediction: return alpha * x - sigma * out;
    case PredictionType::sample:
    case PredictionType::flow_prediction: break;  // flow: refused above
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
  refuse_flow(type_);
  switch (type_) {
    case PredictionType::epsilon: return x - sigma * out;
    case PredictionType::v_prediction: {
      float s2 = sigma * sigma + 1.0f;
      return out * (-sigma / std::sqrt(s2)) + x / s2;
    }
    case PredictionType::sample:
    case PredictionType::flow_prediction: break;  // flow: refused above
  }
  return out;
}

at::Tensor Denoiser::x0_from_flow(const at::Tensor& out, const at::Tensor& x, float sigma) const {
  refuse_non_flow(type_);
  return type_ == PredictionType::sample ? out : x - out * sigma;
}

at::Tensor Denoiser::velocity_from_flow(const at::Tensor& out, const at::Tensor& x, float sigma) const {
  refuse_non_flow(type_);
  return type_ == PredictionType::sample ? (x - out) / sigma : out;
}

at::Tensor Denoiser::scale_input(const at::Tensor& x, float sigma) { return x / std::sqrt(sigma * sigma + 1.0f); }

at::Tensor Denoiser::clip(const at::Tensor& x0) const { return clip_ ? x0.clamp(-range_, range_) : x0; }

}  // namespace diffbench
