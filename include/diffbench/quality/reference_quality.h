#pragma once
/// --reference: a run's final latents (and images) against a reference run from the same noise.
#include <string>

#include <ATen/core/Tensor.h>

#include "diffbench/measure/runner.h"

namespace diffbench {

/// RMSE, max |a - ref| and PSNR = 20 log10(peak / RMSE) (infinite when equal).
void compare_tensors(const at::Tensor& a, const at::Tensor& ref, double peak, double* rmse, double* max_abs,
                     double* psnr_db);

/// Fill result.quality against a reference run (same seed and shape).
void attach_quality(RunResult& result, const RunResult& reference, const std::string& reference_name, bool stochastic);

}  // namespace diffbench
