#pragma once
// Opening a session from a parsed RunSetup: the model files (flag, else manifest), the device,
// threads and load options, and what opening measured.
#include <string>
#include <vector>

#include "diffbench/app/settings.h"
#include "diffbench/measure/session.h"

namespace diffbench {

/// The files and values a session takes from the flags, else from the UNet's manifest.
struct ModelFiles {
  std::string vae, cond, uncond, features, fd_stats;
  double vae_scaling_factor = kSdVaeScalingFactor;
};
/// The one place "flag, else manifest" is decided for a session's files; what the manifest supplied
/// is appended to `taken` ("vae=...", "vae_scaling_factor=..."; the guidance scale is resolve()'s).
ModelFiles model_files(const RunSetup& setup, const ModelManifest& manifest, std::vector<std::string>* taken = nullptr);

/// Device, dtype, threads, the UNet at `unet_path` with its manifest, the VAE, conditioning; what
/// opening them measured (load times, the manifest's contributions, the process) goes to `record`.
Session open_session(const RunSetup& setup, const std::string& unet_path, SessionRecord& record);

}  // namespace diffbench
