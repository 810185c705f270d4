// Two session settings compared field by field (ab's sides share models when they are equal).
#include "diffbench/app/settings.h"

#include <utility>

namespace diffbench {

bool operator==(const SessionSettings& a, const SessionSettings& b) {
  const auto tiling = [](const std::optional<VaeTiling>& t) {
    return t ? std::make_pair(t->tile, t->overlap) : std::make_pair(int64_t{-1}, int64_t{-1});
  };
  return a.unet == b.unet && a.default_model == b.default_model && a.model_for == b.model_for && a.vae == b.vae &&
         a.cond == b.cond && a.uncond == b.uncond && a.cond_shape == b.cond_shape && a.device == b.device &&
         a.dtype == b.dtype && a.threads == b.threads && a.pin == b.pin && a.keep_heap == b.keep_heap &&
         a.trim_before_runs == b.trim_before_runs && a.interop_threads == b.interop_threads &&
         a.load.freeze == b.load.freeze && a.load.channels_last == b.load.channels_last && a.compiled == b.compiled &&
         tiling(a.vae_tiling) == tiling(b.vae_tiling) && a.cuda_graphs == b.cuda_graphs &&
         a.cuda_events == b.cuda_events && a.vae_scaling_factor == b.vae_scaling_factor;
}

}  // namespace diffbench
