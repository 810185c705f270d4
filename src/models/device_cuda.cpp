// Device layer for CUDA LibTorch builds (1.13 and 2.x): event timing, stream sync and allocator statistics.
#include "models/device.h"

#include <deque>

#include <ATen/Context.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <fmt/format.h>

namespace diffbench::device {
namespace {

// Marks as CUDA events with timing on the current stream: recording one never blocks the host.
class EventClock final : public StreamClock {
 public:
  // Events are created once and recorded again after clear(): none is created per step after the
  // first repeat. A deque keeps them in place as it grows (CUDAEvent holds a CUDA handle).
  explicit EventClock(c10::DeviceIndex index) : index_(index) {}
  int mark() override {
    if (used_ == events_.size()) events_.emplace_back(cudaEventDefault);  // CUDAEvent's own default: no timing
    events_[used_].record(at::cuda::getCurrentCUDAStream(index_));
    return static_cast<int>(used_++);
  }
  std::vector<double> read() override {
    std::vector<double> seconds;
    if (used_ == 0) return seconds;
    events_[used_ - 1].synchronize();
    for (size_t i = 0; i < used_; ++i) seconds.push_back(events_[0].elapsed_time(events_[i]) / 1000.0);
    return seconds;
  }
  void clear() override { used_ = 0; }
  const char* kind() const override { return "cuda events"; }

 private:
  c10::DeviceIndex index_;
  std::deque<at::cuda::CUDAEvent> events_;
  size_t used_ = 0;
};

}  // namespace

std::unique_ptr<StreamClock> stream_clock(const c10::Device& device, bool events) {
  if (events && device.is_cuda()) return std::make_unique<EventClock>(device.index() < 0 ? 0 : device.index());
  return host_clock(device);
}

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
  // Index 0 is StatType::AGGREGATE, which LibTorch 1.13 declares in CUDACachingAllocator and 2.x in
  // c10::CachingDeviceAllocator (not aliased there): the index compiles against both.
  return stats.allocated_bytes[0].peak;
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
