#pragma once
// Device facts and synchronisation. device_cpu.cpp or device_cuda.cpp implements this,
// chosen by the DIFFBENCH_CUDA CMake option, so CUDA headers stay out of CPU builds.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <c10/core/Device.h>

#include "diffbench/models/model.h"

namespace diffbench::device {

bool cuda_available();
int cuda_device_count();
/// Wait until all queued work on `device` is done (no-op on CPU).
void synchronize(const c10::Device& device);
/// Reset / read the CUDA caching allocator's peak allocated bytes (0 on CPU).
void reset_peak_memory(const c10::Device& device);
int64_t peak_memory_bytes(const c10::Device& device);
/// e.g. "NVIDIA H100 80GB HBM3"; "" for CPU.
std::string name(const c10::Device& device);
/// CUDA runtime and cuDNN versions, "" when absent.
std::string cuda_version();
std::string cudnn_version();

/// Timestamps taken in the order of the device's work, read once. A mark on a CUDA device with
/// events records a CUDA event on the current stream and returns at once, so the step loop never
/// waits for the GPU; read() waits once, for the last mark. Otherwise (CPU, or CUDA with
/// --cuda-timing sync) a mark synchronises the device (a no-op on CPU) and reads the host clock.
class StreamClock {
 public:
  virtual ~StreamClock() = default;
  /// Take a mark; its index since the last clear(), from 0.
  virtual int mark() = 0;
  /// Each mark's time in seconds after mark 0, once the device has done the work before the last.
  virtual std::vector<double> read() = 0;
  /// Forget every mark.
  virtual void clear() = 0;
  /// "cuda events", "cuda sync" or "host": what the report records as its timing.
  virtual const char* kind() const = 0;
};
/// `events`: CUDA events where `device` is CUDA; the synchronised host clock otherwise.
std::unique_ptr<StreamClock> stream_clock(const c10::Device& device, bool events);
/// The synchronised host clock (device_host_clock.cpp), for every build.
std::unique_ptr<StreamClock> host_clock(const c10::Device& device);

/// --cuda-graphs: `unet` wrapped so that its forward is captured once per input shape as a CUDA
/// graph and replayed (inputs copied into the captured buffers). UsageError in builds without CUDA.
/// Written against LibTorch's at::cuda::CUDAGraph; unverified until a GPU run (docs/optimisations.md).
std::unique_ptr<Model> with_cuda_graphs(std::unique_ptr<Model> unet);

}  // namespace diffbench::device
