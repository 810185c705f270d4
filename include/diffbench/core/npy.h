#pragma once
/// NumPy .npy arrays: latents out (--save-latents), conditioning in (--cond, --uncond).
#include <string>

#include <ATen/core/Tensor.h>

namespace diffbench {

/// A float32 tensor as NumPy .npy (version 1.0, little-endian '<f4', C order).
std::string to_npy(const at::Tensor& tensor);

/// Parse .npy bytes ('<f4' or '<f8', C order, version 1.x/2.x) into a float32 CPU tensor.
/// UsageError naming `origin` on anything malformed.
at::Tensor from_npy(const std::string& bytes, const std::string& origin);

}  // namespace diffbench
