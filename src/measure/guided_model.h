#pragma once
// The UNet as a sampler sees it: classifier-free guidance applied in one batched forward, each
// call timed between two device synchronisations, its output's shape and dtype checked.
#include <cstdint>

#include <ATen/core/Tensor.h>

#include "diffbench/measure/runner.h"
#include "diffbench/measure/session.h"
#include "diffbench/measure/resolve.h"

namespace diffbench {

/// The conditioning a forward call gets: [uncond; cond] when guided, cond alone when not, rows
/// repeated to the batch (10 class rows and a batch of 50 give each class 5 times). Undefined for
/// a 2-input UNet.
at::Tensor conditioning_context(const Session& session, int64_t batch, bool guided);

class GuidedModel {
 public:
  /// Guidance applies when the run uses it (uses_guidance: a conditional UNet and a scale above 1).
  GuidedModel(const Session& session, const RunSpec& spec);
  /// One guided forward (float32 out); its synchronised wall time is added to the running total.
  at::Tensor operator()(const at::Tensor& x_in, const at::Tensor& timestep);
  /// Model time accumulated since the last call, and start a new total.
  double take_time();

 private:
  const Session& session_;
  bool conditional_, guided_;
  double guidance_;
  at::Tensor context_;
  double time_ = 0;
};

}  // namespace diffbench
