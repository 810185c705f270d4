// Device layer for LibTorch builds without CUDA.
#include "models/device.h"

#include <fmt/format.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/setting_names.h"

namespace diffbench::device {

bool cuda_available() { return false; }
int cuda_device_count() { return 0; }
void synchronize(const c10::Device&) {}
void reset_peak_memory(const c10::Device&) {}
int64_t peak_memory_bytes(const c10::Device&) { return 0; }
std::string name(const c10::Device&) { return ""; }
std::string cuda_version() { return ""; }
std::string cudnn_version() { return ""; }
std::unique_ptr<StreamClock> stream_clock(const c10::Device& device, bool) { return host_clock(device); }
std::unique_ptr<Model> with_cuda_graphs(std::unique_ptr<Model>) {
  throw UsageError(
      fmt::format("{} needs a CUDA build of diffbench (README: Building against CUDA) and {} cuda; "
                  "run without it",
                  setting_name("cuda_graphs"), setting_name("device")));
}

}  // namespace diffbench::device
