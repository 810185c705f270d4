// --reference: a run's final latents (and images) against a reference run from the same noise.
#include <cmath>
#include <limits>

#include <ATen/ATen.h>

#include "diffbench/measure/runner.h"
#include "diffbench/quality/reference_quality.h"

namespace diffbench {

void compare_tensors(const at::Tensor& a, const at::Tensor& ref, double peak, double* rmse, double* max_abs,
                     double* psnr_db) {
  at::Tensor diff = a.to(at::kDouble) - ref.to(at::kDouble);
  *rmse = diff.pow(2).mean().sqrt().item<double>();
  *max_abs = diff.abs().max().item<double>();
  *psnr_db = *rmse > 0 ? 20 * std::log10(peak / *rmse) : std::numeric_limits<double>::infinity();
}

void attach_quality(RunResult& result, const RunResult& reference, const std::string& name, bool stochastic) {
  if (!result.latents.defined() || !reference.latents.defined()) return;
  Quality q;
  q.reference = name;
  q.per_sample = stochastic;
  // Latents have no fixed range: the peak is the reference's own range (max - min).
  double peak = (reference.latents.max() - reference.latents.min()).item<double>();
  compare_tensors(result.latents, reference.latents, peak, &q.rmse, &q.max_abs, &q.psnr_db);
  if (result.images.defined() && reference.images.defined()) {
    q.has_images = true;  // images live in [-1, 1]: peak 2
    compare_tensors(result.images, reference.images, 2.0, &q.image_rmse, &q.image_max_abs, &q.image_psnr_db);
  }
  result.quality = q;
}

}  // namespace diffbench
