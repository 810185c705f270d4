#pragma once
/// The one noise schedule every sampler shares: betas, alphas_cumprod and sigma
/// for each training timestep, and the timestep/sigma grids diffusers builds from them.
#include <cstdint>
#include <vector>

#include "diffbench/schedule/scheduler_config.h"

namespace diffbench {

/// Betas, alphas_cumprod and sigmas of a training schedule, in float32 like diffusers.
class NoiseSchedule {
 public:
  explicit NoiseSchedule(const SchedulerConfig& config);

  /// Number of training timesteps (entries in every table).
  int size() const { return static_cast<int>(alphas_cumprod_.size()); }
  /// beta_t for t in [0, size()).
  const std::vector<float>& betas() const { return betas_; }
  /// alphas_cumprod[t] = prod_{s<=t} (1 - beta_s).
  const std::vector<float>& alphas_cumprod() const { return alphas_cumprod_; }
  /// sigma_t = sqrt((1 - a_t) / a_t), ascending in t.
  const std::vector<float>& sigmas() const { return sigmas_; }
  /// log(sigma_t), the table Karras sigmas are mapped back through.
  const std::vector<float>& log_sigmas() const { return log_sigmas_; }

  /// alphas_cumprod at a timestep; throws RuntimeError outside the table.
  float alpha_cumprod(int64_t t) const;
  /// sigma at a (possibly fractional) timestep, linear in sigma, clamped at the ends (np.interp).
  double sigma_at(double t) const;

 private:
  std::vector<float> betas_, alphas_cumprod_, sigmas_, log_sigmas_;
};

/// numpy.linspace(start, stop, n) with the endpoint, in float64 (start + i * step, the last exactly stop).
std::vector<double> numpy_linspace(double start, double stop, int n);

/// numpy's round: halves go to the even neighbour.
double round_half_even(double x);

/// DDPM/DDIM/Euler timestep grid for `steps` under the config's spacing
/// (leading with steps_offset, trailing, linspace), as float64 values, falling.
std::vector<double> spaced_timesteps(const SchedulerConfig& config, int steps);

/// DPM-Solver's grid: like spaced_timesteps, but "leading" and "linspace" place
/// steps + 1 points and drop the last.
std::vector<int64_t> dpm_timesteps(const SchedulerConfig& config, int steps);

/// Karras et al. (2022) eq. 5 sigmas with rho = 7, in float64, falling from sigma_max.
std::vector<double> karras_sigmas(double sigma_min, double sigma_max, int steps);

/// The fractional timestep of a sigma, interpolating in log-sigma.
double sigma_to_t(double sigma, const std::vector<float>& log_sigmas);

}  // namespace diffbench
