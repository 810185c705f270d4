// Flow matching's sigma grid, in diffusers' arithmetic: the scheduler's training sigmas in float32
// (torch), the inference grid in float64 (numpy), or in float32 where the Flux pipeline hands it
// float32 sigmas; the result rounded to float32 as set_timesteps stores it.
#include "diffbench/schedule/flow.h"

#include <cmath>

#include <fmt/format.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/schedule/schedule.h"

namespace diffbench {
namespace {

// SD3's static shift, sigma -> shift sigma / (1 + (shift - 1) sigma), in T's precision.
template <typename T>
T static_shift(T sigma, double shift) {
  return T(shift) * sigma / (T(1) + T(shift - 1) * sigma);
}

// The resolution-dependent shift by mu (sigma exponent 1: the pipelines' only use).
template <typename T>
T time_shift(T sigma, double mu, TimeShiftType type) {
  const T a = type == TimeShiftType::exponential ? T(std::exp(mu)) : T(mu);
  return a / (a + (T(1) / sigma - T(1)));
}

// The scheduler's sigma_max and sigma_min: its training sigmas (N..1)/N in float32, statically
// shifted unless the shift is dynamic. The inference grid is later shifted again, as diffusers does.
struct Range {
  double max, min;
};
Range training_range(const SchedulerConfig& c, bool shifted) {
  const auto n = static_cast<float>(c.num_train_timesteps);
  float hi = n / n, lo = 1.0f / n;
  if (shifted) hi = static_shift(hi, c.shift), lo = static_shift(lo, c.shift);
  return {hi, lo};
}

// The scheduler's own grid: timesteps linspace(sigma_max N, sigma_min N, steps), divided by N.
std::vector<double> scheduler_grid(const SchedulerConfig& c, bool shifted, int steps) {
  const Range r = training_range(c, shifted);
  const double n = c.num_train_timesteps;
  std::vector<double> sigmas = numpy_linspace(r.max * n, r.min * n, steps);
  for (double& s : sigmas) s /= n;
  return sigmas;
}

// Shift (static or by mu), then stretch to shift_terminal, in T's precision.
template <typename T>
std::vector<T> shifted(std::vector<T> sigmas, const SchedulerConfig& c) {
  for (T& s : sigmas) s = c.use_dynamic_shifting ? time_shift(s, *c.mu, c.time_shift_type) : static_shift(s, c.shift);
  if (c.shift_terminal) {
    const double scale = double(T(1) - sigmas.back()) / (1 - *c.shift_terminal);
    for (T& s : sigmas) s = T(1) - (T(1) - s) / T(scale);
  }
  return sigmas;
}

void refuse_unsupported(const SchedulerConfig& c) {
  if (c.use_beta_sigmas) throw UsageError("use_beta_sigmas is not supported by the flow samplers; set it false");
  if (c.invert_sigmas) throw UsageError("invert_sigmas is not supported by the flow samplers; set it false");
  if (c.stochastic_sampling) {
    throw UsageError("stochastic_sampling is not supported by flow_euler (it runs the ODE); set it false");
  }
  if (c.use_karras_sigmas && c.use_exponential_sigmas) {
    throw UsageError("use_karras_sigmas and use_exponential_sigmas exclude each other; choose one");
  }
  if (c.use_dynamic_shifting && !c.mu) {
    throw UsageError(
        fmt::format("use_dynamic_shifting needs mu: give {} or a latent shape to compute it from", setting_name("mu")));
  }
}

}  // namespace

std::vector<float> flow_sigmas(const SchedulerConfig& c, int steps) {
  refuse_unsupported(c);
  std::vector<double> sigmas;
  if (c.flow_sigmas == FlowSigmas::linspace) {  // Flux: float32 sigmas handed in, shifted in float32
    std::vector<float> handed;
    for (double s : numpy_linspace(1.0, 1.0 / steps, steps)) handed.push_back(static_cast<float>(s));
    for (float s : shifted(handed, c)) sigmas.push_back(s);
  } else {
    sigmas = shifted(scheduler_grid(c, !c.use_dynamic_shifting, steps), c);
  }
  if (c.use_karras_sigmas) sigmas = karras_sigmas(sigmas.back(), sigmas.front(), steps);
  if (c.use_exponential_sigmas) {
    std::vector<double> logs = numpy_linspace(std::log(sigmas.front()), std::log(sigmas.back()), steps);
    for (size_t i = 0; i < logs.size(); ++i) sigmas[i] = std::exp(logs[i]);
  }
  return {sigmas.begin(), sigmas.end()};
}

std::vector<float> flow_sigmas_static(const SchedulerConfig& c, int steps) {
  std::vector<double> sigmas = scheduler_grid(c, true, steps);
  for (double& s : sigmas) s = static_shift(s, c.shift);
  return {sigmas.begin(), sigmas.end()};
}

std::vector<double> unipc_flow_sigmas(const SchedulerConfig& c, int steps) {
  if (c.use_dynamic_shifting && !c.mu) refuse_unsupported(c);  // says what mu needs
  std::vector<double> sigmas = numpy_linspace(1.0, 1.0 / c.num_train_timesteps, steps + 1);
  sigmas.pop_back();
  SchedulerConfig shift = c;
  shift.shift = c.flow_shift.value_or(c.shift);
  sigmas = shifted(sigmas, shift);
  if (std::fabs(sigmas[0] - 1) < 1e-6) sigmas[0] -= 1e-6;  // lambda stays finite at the first step
  return sigmas;
}

double flow_mu(const SchedulerConfig& c, double image_seq_len) {
  const double m = (c.max_shift - c.base_shift) / (c.max_image_seq_len - c.base_image_seq_len);
  const double b = c.base_shift - m * c.base_image_seq_len;
  return image_seq_len * m + b;
}

int64_t image_seq_len(int64_t height, int64_t width, int64_t patch_size) {
  return (height / patch_size) * (width / patch_size);
}

}  // namespace diffbench
