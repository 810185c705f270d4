#pragma once
// Device facts and synchronisation. device_cpu.cpp or device_cuda.cpp implements this,
// chosen by the DIFFBENCH_CUDA CMake option, so CUDA headers stay out of CPU builds.
#include <cstdint>
#include <memory>
#include <string>

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

/// --cuda-graphs: `unet` wrapped so that its forward is captured once per input shape as a CUDA
/// graph and replayed (inputs copied into the captured buffers). UsageError in builds without CUDA.
/// Written against LibTorch's at::cuda::CUDAGraph; unverified until a GPU run (docs/optimisations.md).
std::unique_ptr<Model> with_cuda_graphs(std::unique_ptr<Model> unet);

}  // namespace diffbench::device
