#pragma once
// Device facts and synchronisation. device_cpu.cpp or device_cuda.cpp implements this,
// chosen by the DIFFBENCH_CUDA CMake option, so CUDA headers stay out of CPU builds.
#include <cstdint>
#include <string>

#include <c10/core/Device.h>

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

}  // namespace diffbench::device
