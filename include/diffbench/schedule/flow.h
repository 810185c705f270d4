#pragma once
/// Flow matching's sigma grid (FlowMatchEulerDiscreteScheduler; Lipman et al. 2023, Esser et al.
/// 2024): the path x = (1 - sigma) x0 + sigma noise with sigma falling from 1, the static shift
/// (SD3's 3.0), the resolution-dependent shift by mu (Flux), the terminal stretch and Karras or
/// exponential spacing, each in the precision diffusers computes it.
#include <cstdint>
#include <vector>

#include "diffbench/schedule/scheduler_config.h"

namespace diffbench {

/// The `steps` sigmas a flow-matching run visits (float32 values, falling, without the final 0),
/// as set_timesteps makes them: from the scheduler's own grid, or from linspace(1, 1/n, n) when
/// config.flow_sigmas says the pipeline hands those (Flux). UsageError when use_dynamic_shifting
/// has no mu, or for the options diffbench does not run (beta sigmas, inverted sigmas, stochastic
/// sampling).
std::vector<float> flow_sigmas(const SchedulerConfig& config, int steps);

/// The static-shift grid alone (FlowMatchHeunDiscreteScheduler: num_train_timesteps and shift).
std::vector<float> flow_sigmas_static(const SchedulerConfig& config, int steps);

/// UniPC's flow sigmas (UniPCMultistepScheduler with use_flow_sigmas), in float64 before the
/// float32 rounding: linspace(1, 1/N, steps + 1) without its last point, shifted (flow_shift, else
/// shift; or by mu), stretched to shift_terminal, the first nudged to 1 - 1e-6.
std::vector<double> unipc_flow_sigmas(const SchedulerConfig& config, int steps);

/// The dynamic shift's mu for an image of `image_seq_len` tokens, as the SD3 and Flux pipelines
/// compute it: the line through (base_image_seq_len, base_shift) and (max_image_seq_len, max_shift).
double flow_mu(const SchedulerConfig& config, double image_seq_len);

/// The token count of latents H x W for a transformer with `patch_size` x `patch_size` patches
/// (Flux packs 2 x 2; SD3's patch size is 2): (H / p) (W / p), rounded down as the pipelines do.
int64_t image_seq_len(int64_t height, int64_t width, int64_t patch_size);

}  // namespace diffbench
