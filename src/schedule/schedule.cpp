// The shared noise schedule (Ho et al. 2020; Nichol & Dhariwal 2021 for squaredcos_cap_v2;
// Lin et al. 2023 for zero terminal SNR) and diffusers' timestep grids.
#include "diffbench/schedule/schedule.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "diffbench/core/errors.h"

namespace diffbench {
namespace {

std::vector<float> to_vector(const at::Tensor& t) {
  at::Tensor c = t.contiguous().to(at::kFloat);
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// Betas in float32 tensor arithmetic, so the tables match PyTorch's bit for bit.
at::Tensor make_betas(const SchedulerConfig& c) {
  auto f32 = at::TensorOptions().dtype(at::kFloat);
  if (c.trained_betas) {
    return at::tensor(*c.trained_betas, at::TensorOptions().dtype(at::kDouble)).to(at::kFloat);
  }
  int n = c.num_train_timesteps;
  if (c.beta_schedule == BetaSchedule::linear) return at::linspace(c.beta_start, c.beta_end, n, f32);
  if (c.beta_schedule == BetaSchedule::scaled_linear) {
    return at::linspace(std::sqrt(c.beta_start), std::sqrt(c.beta_end), n, f32).pow(2);
  }
  // squaredcos_cap_v2: betas from the cosine alpha_bar, in float64, capped at 0.999.
  auto alpha_bar = [](double t) { return std::pow(std::cos((t + 0.008) / 1.008 * M_PI / 2), 2); };
  std::vector<double> betas(n);
  for (int i = 0; i < n; ++i) {
    betas[i] = std::min(1 - alpha_bar(double(i + 1) / n) / alpha_bar(double(i) / n), 0.999);
  }
  return at::tensor(betas, at::TensorOptions().dtype(at::kDouble)).to(at::kFloat);
}

// Shift and scale sqrt(alphas_cumprod) so the last is 0 and the first unchanged.
at::Tensor rescale_zero_terminal_snr(const at::Tensor& betas) {
  at::Tensor sqrt_bar = at::cumprod(1.0 - betas, 0).sqrt();
  at::Tensor first = sqrt_bar[0].clone(), last = sqrt_bar[-1].clone();
  sqrt_bar = (sqrt_bar - last) * (first / (first - last));
  at::Tensor bar = sqrt_bar.pow(2);
  at::Tensor alphas = at::cat({bar.slice(0, 0, 1), bar.slice(0, 1) / bar.slice(0, 0, -1)});
  return 1.0 - alphas;
}

// numpy.arange(start, stop, step) for a negative step: ceil((stop - start) / step) values.
std::vector<double> numpy_arange_down(double start, double stop, double step) {
  auto n = static_cast<long>(std::ceil((stop - start) / step));
  std::vector<double> v;
  for (long i = 0; i < n; ++i) v.push_back(start + i * step);
  return v;
}

}  // namespace

std::vector<double> numpy_linspace(double start, double stop, int n) {
  std::vector<double> v(n);
  double step = n > 1 ? (stop - start) / (n - 1) : 0.0;
  for (int i = 0; i < n; ++i) v[i] = i * step + start;
  if (n > 1) v[n - 1] = stop;
  return v;
}

NoiseSchedule::NoiseSchedule(const SchedulerConfig& config) {
  validate(config);
  at::Tensor betas = make_betas(config);
  if (config.rescale_betas_zero_snr) betas = rescale_zero_terminal_snr(betas);
  at::Tensor alphas_cumprod = at::cumprod(1.0 - betas, 0);
  betas_ = to_vector(betas);
  alphas_cumprod_ = to_vector(alphas_cumprod);
  // With zero terminal SNR sigma would be infinite at the end; diffusers' sigma-based
  // schedulers use 2^-24 for that last alphas_cumprod, and so do we.
  at::Tensor for_sigmas = alphas_cumprod.clone();
  if (config.rescale_betas_zero_snr) for_sigmas[-1] = std::ldexp(1.0, -24);
  at::Tensor sigmas = ((1 - for_sigmas) / for_sigmas).pow(0.5);
  sigmas_ = to_vector(sigmas);
  log_sigmas_ = to_vector(sigmas.log());
}

float NoiseSchedule::alpha_cumprod(int64_t t) const {
  if (t < 0 || t >= size()) {
    throw RuntimeError(fmt::format("timestep {} is outside the schedule's 0..{}", t, size() - 1));
  }
  return alphas_cumprod_[t];
}

double NoiseSchedule::sigma_at(double t) const {
  int last = size() - 1;
  if (t <= 0) return sigmas_[0];
  if (t >= last) return sigmas_[last];
  auto low = static_cast<int>(std::floor(t));
  double slope = double(sigmas_[low + 1]) - double(sigmas_[low]);
  return slope * (t - low) + double(sigmas_[low]);
}

double round_half_even(double x) { return std::nearbyint(x); }  // default FE_TONEAREST

std::vector<double> spaced_timesteps(const SchedulerConfig& c, int steps) {
  int T = c.trained_betas ? static_cast<int>(c.trained_betas->size()) : c.num_train_timesteps;
  std::vector<double> t;
  if (c.timestep_spacing == TimestepSpacing::leading) {
    int ratio = T / steps;
    for (int i = steps - 1; i >= 0; --i) t.push_back(double(i) * ratio + c.steps_offset);
  } else if (c.timestep_spacing == TimestepSpacing::trailing) {
    for (double v : numpy_arange_down(T, 0, -double(T) / steps)) t.push_back(round_half_even(v) - 1);
    // numpy's arange yields one spurious extra point (rounding to t = -1) for some step
    // counts (61, 103, ...); diffusers then runs steps + 1 steps. We keep the steps asked for.
    t.resize(steps);
  } else {  // linspace: fractional; DDIM/DDPM round these, the Euler family does not
    t = numpy_linspace(0, T - 1, steps);
    std::reverse(t.begin(), t.end());
  }
  return t;
}

std::vector<int64_t> dpm_timesteps(const SchedulerConfig& c, int steps) {
  int T = c.trained_betas ? static_cast<int>(c.trained_betas->size()) : c.num_train_timesteps;
  std::vector<int64_t> t;
  if (c.timestep_spacing == TimestepSpacing::trailing) {
    for (double v : numpy_arange_down(T, 0, -double(T) / steps)) t.push_back(int64_t(round_half_even(v)) - 1);
    t.resize(steps);
  } else if (c.timestep_spacing == TimestepSpacing::leading) {
    int ratio = T / (steps + 1);
    for (int i = steps; i >= 1; --i) t.push_back(int64_t(i) * ratio + c.steps_offset);
  } else {
    std::vector<double> grid = numpy_linspace(0, T - 1, steps + 1);
    for (int i = steps; i >= 1; --i) t.push_back(int64_t(round_half_even(grid[i])));
  }
  return t;
}

std::vector<double> karras_sigmas(double sigma_min, double sigma_max, int steps) {
  const double rho = 7.0;
  double min_inv = std::pow(sigma_min, 1 / rho), max_inv = std::pow(sigma_max, 1 / rho);
  std::vector<double> ramp = numpy_linspace(0, 1, steps), sigmas;
  for (double r : ramp) sigmas.push_back(std::pow(max_inv + r * (min_inv - max_inv), rho));
  return sigmas;
}

double sigma_to_t(double sigma, const std::vector<float>& log_sigmas) {
  double log_sigma = std::log(std::max(sigma, 1e-10));
  int n = static_cast<int>(log_sigmas.size());
  int low = 0;
  for (int i = 0; i < n; ++i) {
    if (log_sigma - double(log_sigmas[i]) >= 0) low = i;
  }
  low = std::min(low, n - 2);
  double lo = log_sigmas[low], hi = log_sigmas[low + 1];
  double w = std::clamp((lo - log_sigma) / (lo - hi), 0.0, 1.0);
  return (1 - w) * low + w * (low + 1);
}

}  // namespace diffbench
