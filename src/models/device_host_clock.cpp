// The synchronised host clock behind device::StreamClock, for CPU and CUDA builds alike.
#include "models/device.h"

#include "core/clock.h"

namespace diffbench::device {
namespace {

class HostClock final : public StreamClock {
 public:
  explicit HostClock(const c10::Device& device) : device_(device) {}
  int mark() override {
    synchronize(device_);
    times_.push_back(now_s());
    return static_cast<int>(times_.size()) - 1;
  }
  std::vector<double> read() override {
    std::vector<double> seconds;
    for (double t : times_) seconds.push_back(t - times_.front());
    return seconds;
  }
  void clear() override { times_.clear(); }
  const char* kind() const override { return device_.is_cuda() ? "cuda sync" : "host"; }

 private:
  c10::Device device_;
  std::vector<double> times_;
};

}  // namespace

std::unique_ptr<StreamClock> host_clock(const c10::Device& device) { return std::make_unique<HostClock>(device); }

}  // namespace diffbench::device
