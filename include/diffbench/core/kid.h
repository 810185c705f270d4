#pragma once
/// Kernel Inception Distance (Binkowski et al. 2018): the unbiased estimate of the squared maximum
/// mean discrepancy between two feature sets with the cubic polynomial kernel
/// k(x, y) = (x.y / D + 1)^3. Its expectation is exactly 0 when both sets come from one distribution,
/// at any sample size, so unlike FD it needs no real-data floor.
#include <cstdint>

#include <ATen/core/Tensor.h>

namespace diffbench {

/// The kernel matrices of two feature sets x [N, D] and y [M, D] (N, M >= 2, float64), computed
/// once, so that bootstrap draws cost matrix-vector products.
class KidKernels {
 public:
  KidKernels(const at::Tensor& x, const at::Tensor& y);
  /// The unbiased MMD^2 with rows weighted by integer counts wx [N], wy [M] (a bootstrap draw; an
  /// undefined tensor means every row once). Pairs of copies of the same row are left out of the
  /// within-set means, as the U-statistic leaves out i = j, so resampling does not inflate it.
  double value(const at::Tensor& wx = {}, const at::Tensor& wy = {}) const;
  int64_t n() const { return kxx_.size(0); }
  int64_t m() const { return kyy_.size(0); }

 private:
  at::Tensor kxx_, kyy_, kxy_;
};

/// mean_{i != j} k(x_i, x_j) + mean_{i != j} k(y_i, y_j) - 2 mean_{i, j} k(x_i, y_j).
double kid(const at::Tensor& x, const at::Tensor& y);

/// KID of all rows, its bootstrap 95% interval (`resamples` draws of both sets with replacement,
/// seeded; percentile), and, as torch-fidelity reports it, the mean and standard deviation over
/// `subsets` random subsets of min(subset_size, N, M) rows drawn without replacement.
struct KidResult {
  double value = 0, ci_low = 0, ci_high = 0;
  double subset_mean = 0, subset_std = 0;
  int64_t n = 0, reference_n = 0, subset_size = 0;
  int resamples = 0, subsets = 0;
};
KidResult kid_with_interval(const at::Tensor& x, const at::Tensor& y, int resamples = 200, int subsets = 100,
                            int64_t subset_size = 1000, uint64_t seed = 0);

/// Bootstrap counts: how often each of n rows is drawn in n draws with replacement (float64 [n]).
at::Tensor bootstrap_counts(int64_t n, at::Generator& gen);

}  // namespace diffbench
