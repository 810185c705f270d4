#pragma once
/// Refusing what cannot fit in memory before the kernel's OOM killer takes the process and its
/// unwritten results (#42: the 32x-the-latents estimate let `tiny.pt` at batch 3000 through; it
/// needs about 250x). Two checks: an estimate at resolution (resolve.h: memory_refusal), and a
/// measurement before the first full-size forward call when the shape is large enough to matter.
#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

namespace diffbench {

struct Session;
class GuidedModel;

/// MemAvailable of /proc/meminfo in bytes (1e18 where unknown).
double available_memory_bytes();

/// On the CPU, when latents of `shape` times 256 (the largest ratio seen on a shipped model) would
/// not fit in the memory available: forward calls at batches 1 and 3 (after one discarded call)
/// measure a sample's working memory (the slope of the resident high-water mark), and a batch that
/// needs more than the memory available is a UsageError with both numbers. Otherwise nothing is called.
void check_memory_by_forward(const Session& session, GuidedModel& model, const std::vector<int64_t>& shape,
                             const at::Tensor& t0);

}  // namespace diffbench
