// Kernel Inception Distance: the unbiased MMD^2 with the cubic polynomial kernel (Binkowski et al.
// 2018, "Demystifying MMD GANs", eq. 4 with k(x, y) = (x.y / d + 1)^3), with a bootstrap interval.
#include "diffbench/core/kid.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/statistics.h"

namespace diffbench {
namespace {

at::Tensor kernel(const at::Tensor& a, const at::Tensor& b) {
  return (at::matmul(a, b.t()) / double(a.size(1)) + 1).pow(3);
}

at::Tensor checked(const at::Tensor& t, const char* which) {
  if (t.dim() != 2 || t.size(0) < 2) {
    throw RuntimeError(fmt::format("KID needs features [N, D] with N >= 2 for the {} set, got {} dims and N = {}",
                                   which, t.dim(), t.dim() ? t.size(0) : 0));
  }
  return t.to(at::kDouble);
}

// Weighted mean of k over pairs of distinct draws: sum_{i,j} c_i c_j K_ij less the pairs of a row
// with a copy of itself (sum_i c_i^2 K_ii), over their number (sum c)^2 - sum c_i^2.
double within(const at::Tensor& k, const at::Tensor& c) {
  const double total = c.sum().item<double>(), squares = c.pow(2).sum().item<double>();
  const double sum = at::dot(c, at::mv(k, c)).item<double>() - at::dot(c.pow(2), k.diagonal()).item<double>();
  return sum / (total * total - squares);
}

}  // namespace

KidKernels::KidKernels(const at::Tensor& x, const at::Tensor& y) {
  at::Tensor a = checked(x, "first"), b = checked(y, "second");
  if (a.size(1) != b.size(1)) {
    throw RuntimeError(fmt::format("KID: feature dimensions differ: {} vs {}", a.size(1), b.size(1)));
  }
  kxx_ = kernel(a, a);
  kyy_ = kernel(b, b);
  kxy_ = kernel(a, b);
}

double KidKernels::value(const at::Tensor& wx, const at::Tensor& wy) const {
  at::Tensor cx = wx.defined() ? wx.to(at::kDouble) : at::ones({n()}, at::kDouble);
  at::Tensor cy = wy.defined() ? wy.to(at::kDouble) : at::ones({m()}, at::kDouble);
  const double cross =
      at::dot(cx, at::mv(kxy_, cy)).item<double>() / (cx.sum().item<double>() * cy.sum().item<double>());
  return within(kxx_, cx) + within(kyy_, cy) - 2 * cross;
}

double kid(const at::Tensor& x, const at::Tensor& y) { return KidKernels(x, y).value(); }

at::Tensor bootstrap_counts(int64_t n, at::Generator& gen) {
  at::Tensor draws = at::randint(n, {n}, gen, at::TensorOptions().dtype(at::kLong));
  return at::bincount(draws, {}, n).to(at::kDouble);
}

KidResult kid_with_interval(const at::Tensor& x, const at::Tensor& y, int resamples, int subsets, int64_t subset_size,
                            uint64_t seed) {
  KidKernels k(x, y);
  KidResult r;
  r.n = k.n();
  r.reference_n = k.m();
  r.value = k.value();
  r.resamples = std::max(resamples, 0);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<double> draws;
  for (int i = 0; i < r.resamples; ++i)
    draws.push_back(k.value(bootstrap_counts(r.n, gen), bootstrap_counts(r.reference_n, gen)));
  std::sort(draws.begin(), draws.end());
  r.ci_low = draws.empty() ? r.value : quantile(draws, 0.025);
  r.ci_high = draws.empty() ? r.value : quantile(draws, 0.975);
  // torch-fidelity's figure: subsets without replacement, as 0/1 weights on the same kernels.
  r.subset_size = std::min({subset_size, r.n, r.reference_n});
  r.subsets = std::max(subsets, 1);
  std::vector<double> values;
  for (int s = 0; s < r.subsets; ++s) {
    auto pick = [&](int64_t size) {
      at::Tensor w = at::zeros({size}, at::kDouble);
      w.index_fill_(0, at::randperm(size, gen, at::TensorOptions().dtype(at::kLong)).slice(0, 0, r.subset_size), 1.0);
      return w;
    };
    values.push_back(k.value(pick(r.n), pick(r.reference_n)));
  }
  double sum = 0, sq = 0;
  for (double v : values) sum += v;
  r.subset_mean = sum / double(values.size());
  for (double v : values) sq += (v - r.subset_mean) * (v - r.subset_mean);
  r.subset_std = values.size() > 1 ? std::sqrt(sq / double(values.size() - 1)) : 0.0;
  return r;
}

}  // namespace diffbench
