// VAE decoding in overlapping tiles with a linear blend across each overlap.
#include "diffbench/models/vae_tiling.h"

#include <cmath>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/parse.h"
#include "diffbench/core/setting_names.h"

namespace diffbench {

VaeTiling parse_vae_tiling(const std::string& text, std::string flag) {
  if (flag.empty()) flag = setting_name("vae_tiling");
  const auto fail = [&](const std::string& why) {
    return UsageError(fmt::format("{} '{}': {}; give TILE[:OVERLAP] in latent pixels, e.g. 32:8", flag, text, why));
  };
  auto number = [&](const std::string& s) -> int64_t {
    const std::optional<int64_t> value = parse_whole_number(s, 999'999);
    if (!value) throw fail("'" + s + "' is not a whole number");
    return *value;
  };
  const size_t colon = text.find(':');
  VaeTiling t;
  t.tile = number(text.substr(0, colon));
  t.overlap = colon == std::string::npos ? t.tile / 4 : number(text.substr(colon + 1));
  if (t.tile < 1) throw fail("the tile must be at least 1");
  if (t.overlap >= t.tile) throw fail("the overlap must be smaller than the tile");
  return t;
}

std::string vae_tiling_name(const VaeTiling& tiling) { return fmt::format("{}:{}", tiling.tile, tiling.overlap); }

std::vector<int64_t> tile_starts(int64_t size, int64_t tile, int64_t overlap) {
  if (size <= tile) return {0};
  std::vector<int64_t> starts;
  for (int64_t s = 0; s + tile < size; s += tile - overlap) starts.push_back(s);
  starts.push_back(size - tile);  // the last tile ends at the edge (its overlap may be wider)
  return starts;
}

namespace {

// `acc` (ending at image column `acc_end` of dim `dim`) joined with `next` starting at `next_start`:
// across the overlap, acc + (next - acc) * w with w rising linearly from just above 0 to just below 1.
// The squared differences of the overlaps go to `seam` (a sum and a count), for overlap_rmse.
struct SeamSum {
  at::Tensor sum_sq;
  int64_t count = 0;
};

at::Tensor join(const at::Tensor& acc, const at::Tensor& next, int64_t next_start, int64_t dim, SeamSum& seam) {
  const int64_t acc_end = acc.size(dim);
  const int64_t overlap = acc_end - next_start;
  if (overlap <= 0) return at::cat({acc, next}, dim);
  std::vector<int64_t> shape(acc.dim(), 1);
  shape[dim] = overlap;
  at::Tensor w = ((at::arange(overlap, acc.options()) + 0.5) / static_cast<double>(overlap)).reshape(shape);
  at::Tensor a = acc.narrow(dim, next_start, overlap);
  const at::Tensor difference = next.narrow(dim, 0, overlap) - a;
  seam.sum_sq = seam.sum_sq.defined() ? seam.sum_sq + difference.square().sum() : difference.square().sum();
  seam.count += difference.numel();
  at::Tensor blended = a + difference * w;
  return at::cat({acc.narrow(dim, 0, next_start), blended, next.narrow(dim, overlap, next.size(dim) - overlap)}, dim);
}

}  // namespace

TiledDecode decode_tiled(const std::function<at::Tensor(const at::Tensor&)>& decode, const at::Tensor& latents,
                         const VaeTiling& tiling) {
  const int64_t h = latents.size(2), w = latents.size(3);
  const int64_t th = std::min(tiling.tile, h), tw = std::min(tiling.tile, w);
  const auto ys = tile_starts(h, tiling.tile, tiling.overlap), xs = tile_starts(w, tiling.tile, tiling.overlap);
  TiledDecode out;
  SeamSum seam;
  at::Tensor image;
  for (int64_t y : ys) {
    at::Tensor row;
    for (int64_t x : xs) {
      at::Tensor tile = decode(latents.narrow(2, y, th).narrow(3, x, tw)).to(at::kFloat);
      ++out.tiles;
      if (out.factor == 0) {
        out.factor = tile.dim() == 4 ? tile.size(2) / th : 0;
        if (out.factor < 1 || tile.size(2) != th * out.factor || tile.size(3) != tw * out.factor) {
          throw RuntimeError(fmt::format(
              "{}: the VAE decoded a {}x{} latent tile to shape [{}]; tiling needs an output that is the "
              "same integer multiple of the input on both sides; run without {}",
              setting_name("vae_tiling"), th, tw, fmt::join(tile.sizes(), ", "), setting_name("vae_tiling")));
        }
      }
      row = row.defined() ? join(row, tile, x * out.factor, 3, seam) : tile;
    }
    image = image.defined() ? join(image, row, y * out.factor, 2, seam) : row;
  }
  out.images = image;
  if (seam.count > 0) out.overlap_rmse = std::sqrt(seam.sum_sq.item<double>() / double(seam.count));
  return out;
}

std::string vae_tiling_note(const VaeTiling& tiling, int64_t height, int64_t width, double overlap_rmse) {
  if (tiling.tile >= height && tiling.tile >= width) {
    return fmt::format(
        "{} {}: the {}x{} latents fit in one tile, so nothing is tiled: this is the "
        "untiled decode",
        setting_name("vae_tiling"), vae_tiling_name(tiling), height, width);
  }
  if (overlap_rmse > kSeamRmse) {
    return fmt::format(
        "{} {}: neighbouring tiles differ by RMS {:.3f} across their overlaps (images in "
        "[-1, 1]), so seams may show; a larger tile or overlap makes them smaller",
        setting_name("vae_tiling"), vae_tiling_name(tiling), overlap_rmse);
  }
  return "";
}

}  // namespace diffbench
