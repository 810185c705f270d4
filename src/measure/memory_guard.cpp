// The memory guard's measurement: one sample's forward, scaled to the batch.
#include "diffbench/measure/memory_guard.h"

#include <fstream>
#include <string>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/measure/process_info.h"
#include "diffbench/measure/session.h"
#include "measure/guided_model.h"

namespace diffbench {

double available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key, unit;
  double value, available_kib = 0;
  while (meminfo >> key >> value >> unit) {
    if (key == "MemAvailable:") available_kib = value;
  }
  return available_kib > 0 ? available_kib * 1024 : 1e18;
}

void check_memory_by_forward(const Session& session, GuidedModel& model, const std::vector<int64_t>& shape,
                             const at::Tensor& t0) {
  if (!session.device.is_cpu() || shape.empty() || shape[0] <= 1) return;
  double elements = 1;
  for (int64_t d : shape) elements *= double(d);
  const double available = available_memory_bytes();
  if (elements * 4 * 256 <= available) return;  // fits even at the largest ratio seen: no extra call
  // The high-water mark above the resident level of a call at `batch`; the first call (TorchScript's
  // profiling, one-off allocations) is made and discarded first. A sample's memory is the slope
  // between batches 1 and 3, so what every call holds whatever its batch is not counted per sample.
  auto peak_above = [&](int64_t batch, int64_t base) {
    std::vector<int64_t> small = shape;
    small[0] = batch;
    reset_peak_rss();
    model(at::zeros(small, at::TensorOptions().dtype(at::kFloat)), t0);
    model.clear_marks();
    return double(std::max<int64_t>(peak_rss_bytes(true) - base, 0));
  };
  if (!reset_peak_rss()) return;  // no high-water mark to read: the estimate at resolution stands
  peak_above(1, 0);
  const int64_t base = current_rss_bytes();
  const double one = peak_above(1, base), three = peak_above(3, base);
  const double per_sample = std::max((three - one) / 2, elements / double(shape[0]) * 4);
  const double need = one + per_sample * double(shape[0] - 1);
  // A fifth is kept back: the sampler's own tensors (latents, noise, its history) and the first
  // full-size call's one-off allocations come on top (batch 1500 of tiny.pt at 64x64, measured at
  // 94% of the memory available, was killed).
  const double usable = 0.8 * available;
  if (need <= usable) return;
  throw UsageError(fmt::format(
      "{} [{}] needs about {:.3g} GiB: each sample's forward call takes {:.3g} MiB (measured at batches 1 and 3), "
      "times batch {}; {:.3g} GiB of memory is available (80% usable); use a batch of at most {}",
      setting_name("shape"), fmt::join(shape, ", "), need / (1 << 30), per_sample / (1 << 20), shape[0],
      available / (1 << 30), static_cast<int64_t>(std::max(0.0, usable - one) / per_sample) + 1));
}

}  // namespace diffbench
