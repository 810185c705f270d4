// Device layer for CUDA LibTorch builds (1.13 and 2.x): stream sync and allocator statistics.
#include "models/device.h"

#include <ATen/Context.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <fmt/format.h>

namespace diffbench::device {

bool cuda_available() { return at::hasCUDA() && c10::cuda::device_count() > 0; }
int cuda_device_count() { return at::hasCUDA() ? static_cast<int>(c10::cuda::device_count()) : 0; }

void synchronize(const c10::Device& device) {
  if (device.is_cuda()) at::cuda::getCurrentCUDAStream(device.index() < 0 ? 0 : device.index()).synchronize();
}

void reset_peak_memory(const c10::Device& device) {
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index() < 0 ? 0 : device.index());
}

int64_t peak_memory_bytes(const c10::Device& device) {
  if (!device.is_cuda()) return 0;
  auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index());
  return stats.allocated_bytes[static_cast<size_t>(c10::cuda::CUDACachingAllocator::StatType::AGGREGATE)].peak;
}

std::string name(const c10::Device& device) {
  if (!device.is_cuda()) return "";
  return at::cuda::getDeviceProperties(device.index() < 0 ? 0 : device.index())->name;
}

std::string cuda_version() {
  int v = 0;
  cudaRuntimeGetVersion(&v);
  return fmt::format("{}.{}", v / 1000, (v % 1000) / 10);
}

std::string cudnn_version() {
  if (!at::globalContext().hasCuDNN()) return "";
  long v = at::globalContext().versionCuDNN();
  return fmt::format("{}", v);
}

}  // namespace diffbench::device
