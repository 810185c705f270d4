#pragma once
// Euler Ancestral, shared by euler_a and turbo (the same loop on another grid).
#include "diffbench/schedule/sampler.h"

namespace diffbench::samplers {

/// The Euler Ancestral loop: an Euler step to sigma_down, then fresh noise times sigma_up.
at::Tensor sample_euler_ancestral(const SampleArgs& a, at::Tensor x);

}  // namespace diffbench::samplers
