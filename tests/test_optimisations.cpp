// The optimisation flags do what they claim: a frozen graph reads no weights, channels-last reaches
// the weights and the latents, VAE tiling is exact where it must be, the operator profiler sees
// operators, a run's peak memory is its own, and low-precision convolutions are right (oneDNN's
// guard).
#include <cmath>
#include <memory>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fake_model.h"
#include "diffbench/samplers/registry.h"
#include "diffbench/measure/process_info.h"
#include "diffbench/core/errors.h"
#include "diffbench/models/model.h"
#include "diffbench/measure/profiler.h"
#include "diffbench/measure/runner.h"
#include "diffbench/measure/session.h"
#include "diffbench/models/vae_tiling.h"
#include "models/torch_runtime.h"

namespace diffbench {
namespace {

const std::string kModelDir = DIFFBENCH_SOURCE_DIR "/models/";

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Optimisations, FreezeAFrozenGraphReadsNoWeightAttributesAndStillComputesTheSame) {
  const c10::Device cpu(c10::kCPU);
  ScriptModel plain(kModelDir + "tiny.pt", ModelRole::unet, {2, 3}, cpu, at::kFloat);
  ScriptModel frozen(kModelDir + "tiny.pt", ModelRole::unet, {2, 3}, cpu, at::kFloat, LoadOptions{true, false});
  EXPECT_GT(count_of(plain.graph_text(), "prim::GetAttr"), 0u);
  EXPECT_EQ(count_of(frozen.graph_text(), "prim::GetAttr"), 0u) << frozen.graph_text();
  EXPECT_TRUE(frozen.parameters().empty());  // the weights are constants of the graph now
  EXPECT_EQ(frozen.parameter_bytes(), plain.parameter_bytes());  // counted before freezing
  at::manual_seed(0);
  const at::Tensor x = at::randn({1, 4, 16, 16}), t = at::full({1}, 500, at::kLong);
  c10::InferenceMode guard;
  EXPECT_TRUE(at::allclose(frozen.forward({x, t}), plain.forward({x, t}), 1e-4, 1e-5));
}

TEST(Optimisations, ChannelsLastEveryFourDimensionalWeightIsChannelsLast) {
  const c10::Device cpu(c10::kCPU);
  ScriptModel plain(kModelDir + "tiny.pt", ModelRole::unet, {2, 3}, cpu, at::kFloat);
  ScriptModel cl(kModelDir + "tiny.pt", ModelRole::unet, {2, 3}, cpu, at::kFloat, LoadOptions{false, true});
  size_t four_d = 0, plain_cl = 0;
  for (const at::Tensor& p : cl.parameters()) {
    if (p.dim() != 4) continue;
    ++four_d;
    EXPECT_TRUE(p.is_contiguous(at::MemoryFormat::ChannelsLast));
  }
  for (const at::Tensor& p : plain.parameters()) {
    if (p.dim() == 4 && p.size(1) > 1 && p.size(2) * p.size(3) > 1)
      plain_cl += p.is_contiguous(at::MemoryFormat::ChannelsLast);
  }
  EXPECT_GT(four_d, 0u);
  EXPECT_EQ(plain_cl, 0u);  // without the flag the 3x3 convolutions' weights are not
}

// A UNet that records the memory format of the latents it is given.
class FormatRecorder : public testing::FakeModel {
 public:
  at::Tensor forward(const std::vector<at::Tensor>& inputs) const override {
    all_channels_last = all_channels_last && inputs[0].is_contiguous(at::MemoryFormat::ChannelsLast);
    return FakeModel::forward(inputs);
  }
  mutable bool all_channels_last = true;
};

TEST(Optimisations, ChannelsLastTheLatentsReachTheUnetInChannelsLastFormat) {
  Session session;
  auto model = std::make_unique<FormatRecorder>();
  FormatRecorder* seen = model.get();
  session.unet = std::move(model);
  session.load.channels_last = true;
  RunSpec spec;
  spec.sampler = &find_sampler("ddim");
  spec.steps = 3;
  spec.shape = {2, 4, 8, 8};
  spec.warmup = 0;
  spec.repeat = 1;
  spec.guidance = 0.0;
  SessionRecord record;
  ASSERT_EQ(run(session, record, spec).status, RunStatus::ok);
  EXPECT_GT(seen->calls, 3);
  EXPECT_TRUE(seen->all_channels_last);
}

TEST(Optimisations, VaeTilingParseTileAndOverlapWithAQuarterTileByDefault) {
  EXPECT_EQ(parse_vae_tiling("32").overlap, 8);
  EXPECT_EQ(parse_vae_tiling("32:4").overlap, 4);
  EXPECT_EQ(vae_tiling_name(parse_vae_tiling("8")), "8:2");
  EXPECT_THROW(parse_vae_tiling("0"), UsageError);
  EXPECT_THROW(parse_vae_tiling("8:8"), UsageError);
  EXPECT_THROW(parse_vae_tiling("x"), UsageError);
  EXPECT_THROW(parse_vae_tiling("8:"), UsageError);
}

TEST(Optimisations, VaeTilingParseTilesCoverTheSideAndTheLastEndsAtTheEdge) {
  EXPECT_EQ(tile_starts(8, 8, 2), (std::vector<int64_t>{0}));
  EXPECT_EQ(tile_starts(5, 8, 2), (std::vector<int64_t>{0}));
  EXPECT_EQ(tile_starts(32, 16, 4), (std::vector<int64_t>{0, 12, 16}));
  EXPECT_EQ(tile_starts(10, 4, 0), (std::vector<int64_t>{0, 4, 6}));
}

TEST(Optimisations, VaeTiledOneTileIsTheUntiledDecodeExactly) {
  ScriptModel vae(kModelDir + "vae_tiny.pt", ModelRole::vae, {1}, c10::Device(c10::kCPU), at::kFloat);
  at::manual_seed(1);
  const at::Tensor z = at::randn({2, 4, 8, 8});
  c10::InferenceMode guard;
  const auto decode = [&](const at::Tensor& t) { return vae.forward({t.contiguous()}); };
  const TiledDecode tiled = decode_tiled(decode, z, VaeTiling{8, 2});
  EXPECT_EQ(tiled.tiles, 1);
  EXPECT_EQ(tiled.factor, 8);
  EXPECT_TRUE(at::equal(tiled.images, decode(z)));
}

TEST(Optimisations, VaeTiledAPointwiseDecoderTilesExactlyForAnyTileAndOverlap) {
  for (int64_t factor : {1, 4}) {
    // Each latent pixel becomes a factor x factor block from its own value only.
    const auto decode = [factor](const at::Tensor& z) {
      at::Tensor images = at::tanh(z.narrow(1, 0, 3) * 0.7 + z.narrow(1, 1, 3));
      return images.repeat_interleave(factor, 2).repeat_interleave(factor, 3);
    };
    at::manual_seed(2);
    const at::Tensor z = at::randn({2, 4, 11, 9});
    const at::Tensor whole = decode(z);
    for (int64_t tile = 1; tile <= 12; ++tile) {
      for (int64_t overlap = 0; overlap < tile; ++overlap) {
        const TiledDecode t = decode_tiled(decode, z, VaeTiling{tile, overlap});
        ASSERT_EQ(t.factor, factor);
        ASSERT_TRUE(at::equal(t.images, whole)) << "tile " << tile << " overlap " << overlap;
        ASSERT_EQ(t.overlap_rmse, 0.0);  // tiles that agree show no seam
      }
    }
  }
}

TEST(Optimisations, VaeTiledTheOverlapIsALinearBlendOfTheTwoTiles) {
  // A decoder that adds its tile's column offset: tiles disagree by a known amount in the overlap.
  int calls = 0;
  const auto decode = [&](const at::Tensor& z) { return at::zeros_like(z.narrow(1, 0, 1)) + double(calls++); };
  const at::Tensor z = at::zeros({1, 4, 1, 8});
  const TiledDecode t = decode_tiled(decode, z, VaeTiling{6, 4});  // tiles at 0 and 2, overlap 4 (columns 2..5)
  ASSERT_EQ(t.tiles, 2);
  const at::Tensor row = t.images[0][0][0];
  EXPECT_EQ(row[0].item<float>(), 0);
  EXPECT_EQ(row[7].item<float>(), 1);
  for (int k = 0; k < 4; ++k) EXPECT_FLOAT_EQ(row[2 + k].item<float>(), (k + 0.5f) / 4);  // 1/8, 3/8, 5/8, 7/8
  EXPECT_DOUBLE_EQ(t.overlap_rmse, 1.0);  // the tiles differ by exactly 1 everywhere in their overlap
  EXPECT_NE(vae_tiling_note(VaeTiling{6, 4}, 1, 8, t.overlap_rmse).find("differ by RMS 1.000"), std::string::npos);
}

TEST(Optimisations, VaeTilingNotesSayWhenNothingIsTiledOrSeamsMayShow) {
  EXPECT_EQ(vae_tiling_note(VaeTiling{16, 4}, 8, 8, 0),
            "vae_tiling 16:4: the 8x8 latents fit in one tile, so nothing is tiled: this is the untiled decode");
  EXPECT_EQ(vae_tiling_note(VaeTiling{4, 1}, 8, 8, kSeamRmse), "");  // at the line: no note
  EXPECT_NE(vae_tiling_note(VaeTiling{4, 1}, 8, 8, 0.289)
                .find("vae_tiling 4:1: neighbouring tiles differ by RMS "
                      "0.289 across their overlaps"),
            std::string::npos);
}

TEST(Optimisations, VaeTiledADecoderWhoseOutputIsNoIntegerMultipleIsRefused) {
  const auto decode = [](const at::Tensor& z) { return at::zeros({z.size(0), 3, z.size(2) * 2 + 1, z.size(3) * 2}); };
  EXPECT_THROW(decode_tiled(decode, at::zeros({1, 4, 8, 8}), VaeTiling{4, 1}), RuntimeError);
}

TEST(Optimisations, OpProfileRecordsOperatorsWithSelfTimeWithinTotalAndWritesAChromeTrace) {
  const at::Tensor a = at::randn({64, 64}), b = at::randn({64, 64});
  OpProfiler profiler;
  for (int i = 0; i < 5; ++i) at::relu(at::matmul(a, b));
  profiler.stop();
  const size_t events = profiler.events();
  at::matmul(a, b);  // after stop: not recorded
  EXPECT_EQ(profiler.events(), events);
  const auto top = profiler.top();
  ASSERT_FALSE(top.empty());
  bool saw_relu = false;
  for (const OpCost& op : top) {
    EXPECT_LE(op.self_s, op.total_s + 1e-12) << op.name;
    EXPECT_GT(op.calls, 0);
    if (op.name == "aten::relu") saw_relu = (op.calls == 5);
  }
  EXPECT_TRUE(saw_relu);
  EXPECT_LE(profiler.top(2).size(), 2u);
  const auto trace = nlohmann::json::parse(profiler.chrome_trace());
  ASSERT_EQ(trace["traceEvents"].size(), events);
  EXPECT_EQ(trace["traceEvents"][0]["ph"], "X");
}

TEST(Optimisations, PeakMemoryEachResetMakesThePeakTheNextWorksOwn) {
  if (!reset_peak_rss()) GTEST_SKIP() << "this kernel cannot reset the resident high-water mark";
  const int64_t mib = 1 << 20;
  release_free_memory();
  reset_peak_rss();
  const int64_t start = current_rss_bytes();
  {
    at::Tensor big = at::ones({256 * mib / 4});  // 256 MiB, every page touched
    EXPECT_GE(peak_rss_bytes(true) - start, 250 * mib);
  }
  release_free_memory();
  reset_peak_rss();
  const int64_t start2 = current_rss_bytes();
  {
    at::Tensor small = at::ones({32 * mib / 4});
    const int64_t own = peak_rss_bytes(true) - start2;
    EXPECT_GE(own, 30 * mib);
    EXPECT_LT(own, 128 * mib);  // not the earlier 256 MiB
  }
}

// Debian 13's LibTorch 2.6 computed bf16 convolutions with few output channels 30% wrong through
// oneDNN on an AMD EPYC VM; after the guard (what loading a bf16 model on the CPU runs) they are
// right in any build: oneDNN stays on where it is right and is off, with its reason, where not.
TEST(Optimisations, Bf16ConvolutionsAreRightAfterTheOneDnnGuard) {
  guard_low_precision_convolutions(at::kBFloat16);
  for (int64_t out : {4, 3, 32}) {
    at::Tensor x = at::sin(at::arange(2 * 32 * 64, at::kFloat) * 0.29).reshape({2, 32, 8, 8});
    at::Tensor w = at::cos(at::arange(out * 32 * 9, at::kFloat) * 0.13).reshape({out, 32, 3, 3}) * 0.1;
    at::Tensor exact = at::conv2d(x, w, {}, 1, 1);
    at::Tensor low = at::conv2d(x.to(at::kBFloat16), w.to(at::kBFloat16), {}, 1, 1).to(at::kFloat);
    EXPECT_LT(((low - exact).norm() / exact.norm()).item<double>(), 0.05) << out << " output channels";
  }
  const bool turned_off = at::hasMKLDNN() && !at::globalContext().userEnabledMkldnn();
  EXPECT_EQ(turned_off, !onednn_off_reason().empty()) << onednn_off_reason();
}

}  // namespace
}  // namespace diffbench
