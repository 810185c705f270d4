#pragma once
/// Opening a model file in its format: an AOTInductor package (.pt2) or a TorchScript file.
#include <memory>
#include <string>
#include <vector>

#include "diffbench/models/model.h"

namespace diffbench {

/// The model in `path` for `role`: an AOTInductor package (is_aoti_package) or a TorchScript file;
/// arguments as ScriptModel's. UsageError naming the fix where this build cannot load the format.
std::unique_ptr<Model> open_model(const std::string& path, ModelRole role, std::vector<int> allowed_arities,
                                  const c10::Device& device, c10::ScalarType dtype, const LoadOptions& load = {});
/// Whether `path` is an AOTInductor package: named *.pt2, or a zip archive whose archive_format says pt2.
bool is_aoti_package(const std::string& path);

}  // namespace diffbench
