// Paired bootstrap differences of FD and KID between two cells made from the same seeds.
#include "diffbench/quality/paired.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/kid.h"
#include "diffbench/core/statistics.h"

namespace diffbench {
namespace {

void check_paired(const at::Tensor& a, const at::Tensor& b) {
  if (a.dim() != 2 || b.dim() != 2 || a.size(0) != b.size(0) || a.size(1) != b.size(1)) {
    throw RuntimeError(fmt::format(
        "a paired difference needs two feature sets of the same shape (the same seeds and sample count), got {} and {}",
        a.sizes(), b.sizes()));
  }
}

// A difference with its sides checked and its settings filled in, before any figure.
PairedDifference started(const char* metric, const at::Tensor& a, const at::Tensor& b, double margin, int resamples) {
  check_paired(a, b);
  PairedDifference d;
  d.metric = metric;
  d.margin = margin;
  d.n = a.size(0);
  d.resamples = std::max(resamples, 0);
  return d;
}

// The draws' spread (2.5% to 97.5%) around their median, placed around the estimate: for FD the
// duplicated rows of a resample inflate both sides, not always equally (Chong & Forsyth 2020:
// FD's bias depends on the model), so the raw quantiles would be off-centre; see frechet.h.
void centred_interval(PairedDifference& d, std::vector<double> draws) {
  if (draws.empty()) {
    d.ci_low = d.ci_high = d.difference;
    return;
  }
  std::sort(draws.begin(), draws.end());
  const double centre = quantile(draws, 0.5);
  d.ci_low = d.difference - (centre - quantile(draws, 0.025));
  d.ci_high = d.difference + (quantile(draws, 0.975) - centre);
}

}  // namespace

const char* verdict_name(QualityVerdict v) {
  switch (v) {
    case QualityVerdict::lower: return "lower";
    case QualityVerdict::higher: return "higher";
    case QualityVerdict::same: return "same";
    case QualityVerdict::undecided: break;
  }
  return "undecided";
}

void decide(PairedDifference& d) {
  if (d.ci_high < 0) {
    d.verdict = QualityVerdict::lower;
  } else if (d.ci_low > 0) {
    d.verdict = QualityVerdict::higher;
  } else if (d.ci_low >= -d.margin && d.ci_high <= d.margin) {
    d.verdict = QualityVerdict::same;
  } else {
    d.verdict = QualityVerdict::undecided;
  }
  d.samples_to_decide = 0;
  const double half = (d.ci_high - d.ci_low) / 2;
  if (d.verdict == QualityVerdict::undecided && d.difference != 0 && half > 0) {
    d.samples_to_decide = static_cast<int64_t>(std::ceil(double(d.n) * std::pow(half / std::abs(d.difference), 2)));
  }
}

PairedDifference paired_fd(const at::Tensor& a, const at::Tensor& b, const Moments& reference, double margin,
                           int resamples, uint64_t seed) {
  PairedDifference d = started("fd", a, b, margin, resamples);
  at::Tensor fa = a.to(at::kDouble), fb = b.to(at::kDouble);
  d.a = frechet_distance(moments(fa), reference);
  d.b = frechet_distance(moments(fb), reference);
  d.difference = d.a - d.b;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<double> draws;
  for (int i = 0; i < d.resamples; ++i) {
    at::Tensor index = at::randint(d.n, {d.n}, gen, at::TensorOptions().dtype(at::kLong));
    draws.push_back(frechet_distance(moments(fa.index_select(0, index)), reference) -
                    frechet_distance(moments(fb.index_select(0, index)), reference));
  }
  centred_interval(d, std::move(draws));
  decide(d);
  return d;
}

PairedDifference paired_kid(const at::Tensor& a, const at::Tensor& b, const at::Tensor& reference, double margin,
                            int resamples, uint64_t seed) {
  PairedDifference d = started("kid", a, b, margin, resamples);
  KidKernels ka(a, reference), kb(b, reference);
  d.a = ka.value();
  d.b = kb.value();
  d.difference = d.a - d.b;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<double> draws;
  for (int i = 0; i < d.resamples; ++i) {
    at::Tensor wx = bootstrap_counts(d.n, gen), wy = bootstrap_counts(ka.m(), gen);
    draws.push_back(ka.value(wx, wy) - kb.value(wx, wy));
  }
  // KID's resamples leave out copies of a row paired with itself: no inflation to centre away, but
  // the same centring keeps both metrics' intervals built one way.
  centred_interval(d, std::move(draws));
  decide(d);
  return d;
}

}  // namespace diffbench
