#pragma once
/// Decoded images as PNG files (--save-images).
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace diffbench {

/// Encode images [B,3,H,W] in [-1, 1] as one PNG per image into `dir` (created if missing), all of
/// them in dir/grid.png, and the unrounded images as dir/images.npy (float32, C order); returns the
/// written paths (dir/image_000.png, ..., grid.png, images.npy).
std::vector<std::string> write_pngs(const at::Tensor& images, const std::string& dir);

}  // namespace diffbench
