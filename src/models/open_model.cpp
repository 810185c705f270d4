// The one choice of model format by file: an AOTInductor package or a TorchScript file.
#include <fmt/format.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/version.h>

#include "models/aoti_model.h"
#include "diffbench/core/errors.h"
#include "diffbench/models/open_model.h"

namespace diffbench {

bool is_aoti_package(const std::string& path) {
  if (path.size() > 4 && path.compare(path.size() - 4, 4, ".pt2") == 0) return true;
  try {  // a package under another name: torch.export's archive says "pt2" in its archive_format record
    caffe2::serialize::PyTorchStreamReader reader(path);
    if (!reader.hasRecord("archive_format")) return false;
    auto [data, size] = reader.getRecord("archive_format");
    return std::string(static_cast<const char*>(data.get()), size) == "pt2";
  } catch (const std::exception&) {  // not a zip archive at all: the TorchScript loader says why
    return false;
  }
}

std::unique_ptr<Model> open_model(const std::string& path, ModelRole role, std::vector<int> allowed_arities,
                                  const c10::Device& device, c10::ScalarType dtype, const LoadOptions& load) {
  if (!is_aoti_package(path))
    return std::make_unique<ScriptModel>(path, role, std::move(allowed_arities), device, dtype, load);
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 6)
  return std::make_unique<AotiModel>(path, role, allowed_arities, device, dtype, load);
#else
  throw UsageError(
      fmt::format("{} '{}' is an AOTInductor package (.pt2), which LibTorch {} cannot load (2.6 and later "
                  "can): run it with the main build (scripts/setup.sh), or export TorchScript "
                  "(the exporters' torchscript format)",
                  role_name(role), path, TORCH_VERSION));
#endif
}

}  // namespace diffbench
