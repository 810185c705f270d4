// PNG output through stb_image_write (Debian's libstb-dev).
#include <sys/stat.h>

#include <cmath>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/files.h"
#include "diffbench/core/npy.h"
#include "diffbench/core/png.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <stb_image_write.h>
#pragma GCC diagnostic pop

namespace diffbench {
namespace {

void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
}

}  // namespace

std::vector<std::string> write_pngs(const at::Tensor& images, const std::string& dir) {
  if (images.dim() != 4 || (images.size(1) != 3 && images.size(1) != 1)) {
    throw RuntimeError(
        fmt::format("VAE output has shape [{}]; expected [B, 3, H, W] images", fmt::join(images.sizes(), ", ")));
  }
  mkdir(dir.c_str(), 0755);  // an existing directory is fine; check_writable ran before the work
  // [-1, 1] -> [0, 255], HWC bytes
  at::Tensor bytes =
      ((images.to(at::kFloat).clamp(-1, 1) + 1) * 127.5).round().to(at::kByte).permute({0, 2, 3, 1}).contiguous();
  std::vector<std::string> paths;
  for (int64_t b = 0; b < bytes.size(0); ++b) {
    std::string png;
    at::Tensor img = bytes[b];
    int h = static_cast<int>(img.size(0)), w = static_cast<int>(img.size(1)), c = static_cast<int>(img.size(2));
    if (!stbi_write_png_to_func(append_bytes, &png, w, h, c, img.data_ptr<uint8_t>(), w * c)) {
      throw RuntimeError("PNG encoding failed");
    }
    paths.push_back(fmt::format("{}/image_{:03d}.png", dir, b));
    write_file_atomically(paths.back(), png);
  }
  {  // all of them in one grid, ceil(sqrt(B)) columns, for a look at a glance (batch 1 too: the README's promise)
    const int64_t n = bytes.size(0), h = bytes.size(1), w = bytes.size(2), c = bytes.size(3);
    const auto cols = static_cast<int64_t>(std::ceil(std::sqrt(double(n)))), rows = (n + cols - 1) / cols;
    at::Tensor grid = at::zeros({rows * h, cols * w, c}, at::kByte);
    for (int64_t b = 0; b < n; ++b) {
      grid.slice(0, (b / cols) * h, (b / cols + 1) * h).slice(1, (b % cols) * w, (b % cols + 1) * w).copy_(bytes[b]);
    }
    std::string png;
    if (!stbi_write_png_to_func(append_bytes, &png, static_cast<int>(cols * w), static_cast<int>(rows * h),
                                static_cast<int>(c), grid.data_ptr<uint8_t>(), static_cast<int>(cols * w * c))) {
      throw RuntimeError("PNG encoding failed");
    }
    paths.push_back(dir + "/grid.png");
    write_file_atomically(paths.back(), png);
  }
  // The decoded images themselves, unrounded: what a check against another decoder compares.
  paths.push_back(dir + "/images.npy");
  write_file_atomically(paths.back(), to_npy(images.to(at::kFloat).contiguous()));
  return paths;
}

}  // namespace diffbench
