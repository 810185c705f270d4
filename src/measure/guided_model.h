#pragma once
// The UNet as a sampler sees it: classifier-free guidance applied in one batched forward, each
// call timed between two marks of the run's stream clock, its output's shape and dtype checked.
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "diffbench/measure/runner.h"
#include "diffbench/measure/session.h"
#include "diffbench/measure/resolve.h"
#include "models/device.h"

namespace diffbench {

/// The conditioning a forward call gets: [uncond; cond] when guided, cond alone when not, rows
/// repeated to the batch (10 class rows and a batch of 50 give each class 5 times). Undefined for
/// a 2-input UNet.
at::Tensor conditioning_context(const Session& session, int64_t batch, bool guided);

class GuidedModel {
 public:
  /// A pair of the clock's marks: before and after one forward call.
  using Marks = std::pair<int, int>;
  /// Guidance applies when the run uses it (uses_guidance: a conditional UNet and a scale above 1).
  /// The clock: CUDA events when the session asks for them on a CUDA device, else the host clock.
  GuidedModel(const Session& session, const RunSpec& spec);
  /// One guided forward (float32 out), marked on the clock before and after.
  at::Tensor operator()(const at::Tensor& x_in, const at::Tensor& timestep);
  /// The marks of every call since the last clear_marks(), in call order.
  const std::vector<Marks>& marks() const { return marks_; }
  /// Forget the marks (their storage is kept: no allocation per repeat).
  void clear_marks() { marks_.clear(); }
  /// The run's clock: the runner marks steps on it and reads it once per repeat.
  device::StreamClock& clock() { return *clock_; }

 private:
  const Session& session_;
  bool conditional_, guided_;
  double guidance_;
  at::Tensor context_;
  std::unique_ptr<device::StreamClock> clock_;
  std::vector<Marks> marks_;
};

}  // namespace diffbench
