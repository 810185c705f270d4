// The Frechet distance of two Gaussians (Dowson & Landau 1982; FID: Heusel et al. 2017), with a
// percentile bootstrap interval over the generated samples, and extrapolated to infinite n
// (Chong & Forsyth, "Effectively Unbiased FID and Inception Score and where to find them", CVPR
// 2020, section 3: FD on subsets of several sizes, fitted linearly in 1/n).
#include "diffbench/core/frechet.h"

#include <algorithm>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/statistics.h"

namespace diffbench {
namespace {

// Square root of a symmetric positive semi-definite matrix: V sqrt(max(w, 0)) V^T.
at::Tensor sqrt_psd(const at::Tensor& a) {
  auto [w, v] = at::linalg_eigh((a + a.t()) / 2);
  return at::matmul(v * w.clamp_min(0).sqrt().unsqueeze(0), v.t());
}

}  // namespace

Moments moments(const at::Tensor& features) {
  if (features.dim() != 2 || features.size(0) < 2) {
    throw RuntimeError(fmt::format("the Frechet distance needs features [N, D] with N >= 2, got {} dims and N = {}",
                                   features.dim(), features.dim() ? features.size(0) : 0));
  }
  at::Tensor f = features.to(at::kDouble);
  at::Tensor mean = f.mean(0);
  at::Tensor centred = f - mean;
  return {mean, at::matmul(centred.t(), centred) / double(f.size(0) - 1), f.size(0)};
}

double frechet_distance(const Moments& a, const Moments& b) {
  if (a.mean.numel() != b.mean.numel()) {
    throw RuntimeError(fmt::format("feature dimensions differ: {} vs {} (statistics from another feature model?)",
                                   a.mean.numel(), b.mean.numel()));
  }
  at::Tensor r = sqrt_psd(a.cov);
  at::Tensor middle = at::matmul(at::matmul(r, b.cov), r);
  at::Tensor w = at::linalg_eigvalsh((middle + middle.t()) / 2);
  double mean_term = (a.mean - b.mean).pow(2).sum().item<double>();
  double trace =
      a.cov.trace().item<double>() + b.cov.trace().item<double>() - 2 * w.clamp_min(0).sqrt().sum().item<double>();
  return mean_term + trace;
}

FrechetResult frechet_with_interval(const at::Tensor& features, const Moments& reference, int resamples,
                                    uint64_t seed) {
  FrechetResult result;
  result.n = features.size(0);
  result.resamples = resamples;
  result.fd = frechet_distance(moments(features), reference);
  if (resamples <= 0) {
    result.ci_low = result.ci_high = result.fd;
    return result;
  }
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  at::Tensor f = features.to(at::kDouble);
  std::vector<double> draws;
  for (int i = 0; i < resamples; ++i) {
    at::Tensor index = at::randint(result.n, {result.n}, gen, at::TensorOptions().dtype(at::kLong));
    draws.push_back(frechet_distance(moments(f.index_select(0, index)), reference));
  }
  // Resampling with replacement duplicates images, which inflates FD (at D = 128, N = 1,000 by
  // about 20 on the digit features): the plain percentile interval can lie wholly above the
  // estimate. The bootstrap distribution is therefore shifted so that its median is the estimate,
  // and its spread (2.5% to 97.5%) is what the interval reports.
  std::sort(draws.begin(), draws.end());
  const double centre = quantile(draws, 0.5);
  result.ci_low = result.fd - (centre - quantile(draws, 0.025));
  result.ci_high = result.fd + (quantile(draws, 0.975) - centre);
  return result;
}

namespace {  // FD at infinite n

struct Fit {
  double intercept = 0, slope = 0;
};

// Least squares of y on x = 1/n.
Fit fit_inverse_n(const std::vector<std::pair<int64_t, double>>& points) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const double k = double(points.size());
  for (const auto& [n, y] : points) {
    const double x = 1.0 / double(n);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  Fit f;
  f.slope = (k * sxy - sx * sy) / (k * sxx - sx * sx);
  f.intercept = (sy - f.slope * sx) / k;
  return f;
}

// FD on one random subset of each size, all from `rows` (a [N, D] float64 set).
std::vector<std::pair<int64_t, double>> subset_curve(const at::Tensor& rows, const Moments& reference,
                                                     const std::vector<int64_t>& sizes, at::Generator& gen) {
  std::vector<std::pair<int64_t, double>> curve;
  for (int64_t n : sizes) {
    at::Tensor pick = at::randperm(rows.size(0), gen, at::TensorOptions().dtype(at::kLong)).slice(0, 0, n);
    curve.emplace_back(n, frechet_distance(moments(rows.index_select(0, pick)), reference));
  }
  return curve;
}

}  // namespace

int64_t min_samples_for_infinity(int64_t dim) { return std::max<int64_t>(4 * dim, 50); }

FrechetInfinity frechet_at_infinity(const at::Tensor& features, const Moments& reference, int points, int resamples,
                                    uint64_t seed) {
  const int64_t total = features.dim() == 2 ? features.size(0) : 0, dim = features.dim() == 2 ? features.size(1) : 0;
  points = std::max(points, 2);
  if (total < min_samples_for_infinity(dim)) {
    throw RuntimeError(
        fmt::format("FD at infinite n needs at least {} images for {} features (subsets from "
                    "max(N/5, 2D) to N), got {}",
                    min_samples_for_infinity(dim), dim, total));
  }
  const int64_t lowest = std::max(total / 5, 2 * dim);
  std::vector<int64_t> sizes;
  for (int i = 0; i < points; ++i) sizes.push_back(lowest + (total - lowest) * i / (points - 1));
  at::Tensor rows = features.to(at::kDouble);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  FrechetInfinity r;
  r.points = subset_curve(rows, reference, sizes, gen);
  const Fit fit = fit_inverse_n(r.points);
  r.value = fit.intercept;
  r.slope = fit.slope;
  r.resamples = std::max(resamples, 0);
  std::vector<double> draws;
  for (int i = 0; i < r.resamples; ++i) {
    at::Tensor index = at::randint(total, {total}, gen, at::TensorOptions().dtype(at::kLong));
    draws.push_back(fit_inverse_n(subset_curve(rows.index_select(0, index), reference, sizes, gen)).intercept);
  }
  if (draws.empty()) {
    r.ci_low = r.ci_high = r.value;
    return r;
  }
  std::sort(draws.begin(), draws.end());
  const double centre = quantile(draws, 0.5);
  r.ci_low = r.value - (centre - quantile(draws, 0.025));
  r.ci_high = r.value + (quantile(draws, 0.975) - centre);
  return r;
}

}  // namespace diffbench
