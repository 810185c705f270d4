#pragma once
/// `diffbench ablate`: the lecture's optimisation ladder measured. A baseline, each toggle alone,
/// all toggles together, and all toggles with a few-step sampler; per configuration the time per
/// image with a speed-up interval, peak memory, and how far its output drifts from the baseline's.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "diffbench/measure/runner.h"
#include "diffbench/models/vae_tiling.h"

namespace diffbench {

/// One configuration: what it changes relative to the baseline run.
struct AblationConfig {
  std::string label;  ///< "baseline", "freeze", "all", "all + lcm:4"
  std::vector<std::string> toggles;  ///< canonical toggle names applied ("freeze", "vae-tiling=4:1")
  bool freeze = false, channels_last = false, cuda_graphs = false;
  bool compiled = false;  ///< the model's AOTInductor package (the compile toggle)
  std::vector<std::string> superseded;  ///< toggles the row leaves out: compile supersedes freeze, channels-last
  std::optional<std::string> dtype;  ///< unset: the baseline's ("bf16", "fp16")
  std::optional<int> threads;  ///< unset: the baseline's
  std::optional<VaeTiling> vae_tiling;
  std::string sampler;  ///< "" : the baseline's (set for the few-step row)
  std::optional<int> steps;  ///< unset: the baseline's (set for the few-step row)
  std::string model;  ///< UNet file for the few-step sampler ("" : the usual choice)
  bool few_step = false;  ///< the last rung: all toggles plus --fast
};

/// --fast SAMPLER:STEPS[@MODEL].
struct FastSampler {
  std::string sampler;
  int steps = 0;  ///< 0: the step count its model's manifest names (else the sampler's default)
  std::string model;
};
FastSampler parse_fast(const std::string& text);

/// "freeze,bf16,vae-tiling=32:8" -> canonical names; UsageError for an unknown toggle (with a
/// suggestion), a bad value, a toggle given twice, or two that set the same thing (bf16 and fp16).
std::vector<std::string> parse_toggles(const std::string& text);
/// Apply one canonical toggle to `c`.
void apply_toggle(const std::string& toggle, AblationConfig& c);
/// baseline, each toggle alone, all of them (more than one), all + the few-step sampler (when given).
std::vector<AblationConfig> ablation_plan(const std::vector<std::string>& toggles,
                                          const std::optional<FastSampler>& fast);

/// Speed-up base/other: the Hodges-Lehmann estimate (median of all ratios base_i / other_j) with the
/// distribution-free interval from the Mann-Whitney distribution (normal approximation for its rank;
/// [min, max] of the ratios when the samples are too small for `level`).
struct SpeedUp {
  double estimate = 1, low = 1, high = 1;
  double level = 0;  ///< the interval's nominal coverage (0: the samples cannot give `level`)
};
SpeedUp speedup(const std::vector<double>& base, const std::vector<double>& other, double level = 0.95);

/// What a row's figures say against the baseline: its speed-up interval above 1 (faster), below 1
/// (slower), or containing 1; no interval at these sizes; no figures (failed, interrupted, empty).
enum class AblationVerdict { baseline, faster, slower, no_clear_change, no_interval, no_figures };

/// One measured configuration.
struct AblationRow {
  AblationConfig config;  ///< what the row changes
  std::string sampler;  ///< what it ran, resolved
  int steps = 0;
  RunStatus status = RunStatus::ok;
  std::string error;
  std::vector<double> per_image_s;  ///< each counted repeat's total / batch
  double time_per_image_s = 0;  ///< their median
  SpeedUp speedup;  ///< vs the baseline
  int64_t peak_rss_bytes = 0;  ///< the process's resident peak during the run
  int64_t run_memory_bytes = 0;  ///< peak - resident at the run's start (activations, tiles, outputs)
  int64_t device_peak_bytes = 0;  ///< CUDA caching allocator peak (0 on CPU)
  double memory_ratio = 1;  ///< run memory (device peak on CUDA) / the baseline's
  std::optional<double> drift_psnr_db;  ///< against the baseline's output, same seed (infinite: equal)
  std::string drift_on;  ///< "images" or "latents"
  AblationVerdict verdict = AblationVerdict::no_figures;
  bool changes_results = false;  ///< drift_psnr_db below the ladder's max_drift_db
  std::string verdict_note;  ///< why there is no verdict ("5 vs 2 figures give no 95% interval")
};

/// The verdict as the tables and the JSON spell it: "baseline", "faster", "slower", "no clear
/// change", each with ", changes results" when it does; "no verdict: WHY"; the run's status
/// ("failed", "interrupted") or "no figures".
std::string verdict_text(const AblationRow& row);

struct Ablation {
  std::vector<AblationRow> rows;  ///< rows[0] is the baseline
  double max_drift_db = 40;  ///< PSNR below this: "changes results"
  std::string device;
  /// The baseline measured again after the last configuration: its time per image, and its change
  /// against the first baseline (the machine's drift over the ladder, which no interval includes).
  std::optional<double> baseline_again_s, baseline_drift;
};

/// Above this drift of the baseline between the start and end of a ladder, the table warns.
constexpr double kBaselineDriftWarning = 0.05;

/// Fill each row's speed-up, memory ratio and verdict from the measured figures (rows[0] is the base).
void finish_ablation(Ablation& a);
/// PSNR of `run`'s output against `base`'s (images when both have them, else latents); sets `on`.
double output_drift_db(const RunResult& run, const RunResult& base, std::string* on);

}  // namespace diffbench
