#pragma once
/// --vae-tiling: decode latents in overlapping tiles, blended linearly across each overlap, so the
/// decoder's activations are those of one tile at a time (docs/optimisations.md).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace diffbench {

/// Tile and overlap in latent pixels.
struct VaeTiling {
  int64_t tile = 0;
  int64_t overlap = 0;
};

/// "TILE[:OVERLAP]" (overlap default: a quarter tile); UsageError naming `flag` (default: the
/// setting as setting_name("vae_tiling") names it) otherwise.
VaeTiling parse_vae_tiling(const std::string& text, std::string flag = {});
/// "TILE:OVERLAP".
std::string vae_tiling_name(const VaeTiling& tiling);

/// Where tiles of `tile` start along a side of `size` (the last ends at the edge; one tile when the
/// side fits in one).
std::vector<int64_t> tile_starts(int64_t size, int64_t tile, int64_t overlap);

struct TiledDecode {
  at::Tensor images;  ///< float32, [B, C', H * factor, W * factor]
  int64_t tiles = 0;  ///< decoder calls
  int64_t factor = 0;  ///< the decoder's upsampling factor, measured on the first tile
  /// RMS difference between neighbouring tiles across their overlaps, before blending (images in
  /// [-1, 1]): 0 with one tile or a decoder that tiles exactly; the larger, the more a seam can show.
  double overlap_rmse = 0;
};

/// Tile differences above this RMS (a quarter of one 8-bit level is 0.002 in [-1, 1]) get a note.
inline constexpr double kSeamRmse = 0.01;

/// What a run's notes say about its tiling: nothing is tiled (the latents fit in one tile), or
/// seams may show (overlap_rmse above kSeamRmse); nothing otherwise.
std::string vae_tiling_note(const VaeTiling& tiling, int64_t height, int64_t width, double overlap_rmse);

/// Decode [B, C, H, W] `latents` tile by tile with `decode`. Each overlap is blended as
/// a + (b - a) * w with w rising linearly across it, so where neighbouring tiles agree the result is
/// exactly theirs (a pointwise decoder tiles exactly; one tile is the untiled decode). RuntimeError
/// when the decoder's output is not an integer multiple of its input, the same in both sides.
TiledDecode decode_tiled(const std::function<at::Tensor(const at::Tensor&)>& decode, const at::Tensor& latents,
                         const VaeTiling& tiling);

}  // namespace diffbench
