#pragma once
/// A model's manifest (docs/models.md), typed: what the `diffbench.json` inside (or beside) a UNet
/// says about the files it works with and the settings it was made for, parsed once when the model
/// is opened. Every file is a path resolved against the model's folder.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <c10/core/ScalarType.h>
#include <nlohmann/json_fwd.hpp>

#include "diffbench/schedule/scheduler_config.h"

namespace diffbench {

struct ModelManifest {
  std::string vae, cond, uncond;  ///< decoder and conditioning files ("" when not named)
  std::string features, fd_stats;  ///< the quality metric's feature model and reference statistics
  std::optional<double> vae_scaling_factor, guidance_scale;
  std::optional<c10::ScalarType> dtype;  ///< the dtype the model was exported in
  /// The same model exported in other dtypes (dtype -> UNet file, each with its own manifest and
  /// VAE): a trace fixes its dtype inside, so `--dtype bf16` on an fp32 export needs its bf16 file.
  std::map<c10::ScalarType, std::string> dtype_models;
  /// The same weights compiled by AOTInductor (dtype -> .pt2 file): what `compiled` runs.
  std::map<c10::ScalarType, std::string> packages;
  std::optional<PredictionType> prediction_type;
  std::string sampler;  ///< the sampler a distilled model is made for ("" for none)
  std::optional<int> steps;  ///< that sampler's steps
  std::optional<SchedulerConfig> scheduler_config;  ///< the model's own schedule
  std::string scheduler_config_source;  ///< where it came from (a file, or the manifest)
  std::vector<std::string> warnings;  ///< keys of the scheduler config diffbench does not read
  std::map<std::string, std::string> sampler_models;  ///< sampler -> UNet file (a teacher's students)
  std::optional<int> patch_size;  ///< a flow transformer's patch size, for the dynamic shift's token count
  std::optional<FlowSigmas> flow_sigmas;  ///< the sigmas its pipeline hands the scheduler (Flux: linspace)
};

/// The manifest `meta` (a model's metadata object) of the model file `model_path`. UsageError naming
/// the key for a value of the wrong type or an unknown sampler, dtype or prediction type.
ModelManifest parse_manifest(const nlohmann::json& meta, const std::string& model_path);

}  // namespace diffbench
