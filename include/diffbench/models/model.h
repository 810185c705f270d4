#pragma once
/// UNet and VAE-decoder loading: TorchScript files (src/models/model.cpp, the only file that sees
/// torch/script.h) and AOTInductor packages (src/models/aoti_model.cpp, LibTorch 2.6 and later).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <nlohmann/json.hpp>

namespace diffbench {

/// A network the runner calls: the UNet, the VAE decoder or a feature network. ScriptModel is the
/// real one; tests drive the runner through a fake (tests/fake_model.h) to check timing, NaN and
/// interrupt handling without TorchScript.
class Model {
 public:
  virtual ~Model() = default;
  /// Call the network; RuntimeError names the model on failure.
  virtual at::Tensor forward(const std::vector<at::Tensor>& inputs) const = 0;

  const std::string& path() const { return path_; }
  int arity() const { return arity_; }  ///< forward arguments, without self
  int64_t parameter_bytes() const { return param_bytes_; }  ///< bytes of parameters and buffers
  c10::ScalarType dtype() const { return dtype_; }
  /// The latent shape stored by scripts/export_models.py ("sample_shape"), if any.
  const std::optional<std::vector<int64_t>>& sample_shape() const { return sample_shape_; }
  /// The conditioning shape stored by scripts/export_models.py ("cond_shape"), if any.
  const std::optional<std::vector<int64_t>>& cond_shape() const { return cond_shape_; }
  /// The whole "diffbench.json" stored in the file (an object; empty when there is none): the
  /// model's manifest (docs/models.md).
  const nlohmann::json& metadata() const { return metadata_; }
  /// "torchscript" or "aoti" (an AOTInductor package), as the report's context records it.
  virtual std::string format() const { return "torchscript"; }
  /// Why this model cannot take latents of `shape` (a package compiled for other sizes), naming the
  /// fix; "" when it can. resolve() asks before any work.
  virtual std::string shape_refusal(const std::vector<int64_t>& /*shape*/) const { return ""; }

 protected:
  Model(std::string path, int arity, c10::ScalarType dtype) : path_(std::move(path)), arity_(arity), dtype_(dtype) {}
  /// Keep `manifest` as metadata() and read its sample_shape and cond_shape.
  void take_manifest(nlohmann::json manifest);
  std::string path_;
  int arity_ = 0;
  int64_t param_bytes_ = 0;
  c10::ScalarType dtype_;
  std::optional<std::vector<int64_t>> sample_shape_, cond_shape_;
  nlohmann::json metadata_ = nlohmann::json::object();
};

/// What a loaded network is for; its name is what errors call it.
enum class ModelRole { unet, vae, features };
/// "UNet", "VAE" or "feature model".
const char* role_name(ModelRole role);

/// What is done to a module after loading (docs/optimisations.md): each is a run flag.
struct LoadOptions {
  /// --freeze: torch::jit::freeze (weights become constants of the graph) then optimize_for_inference.
  bool freeze = false;
  /// --channels-last: 4-d weights in channels-last memory format (before freezing, so constants keep it).
  bool channels_last = false;
};

/// A loaded TorchScript module with a checked `forward`.
class ScriptModel : public Model {
 public:
  /// Load `path` for `role` on `device` in `dtype`, then apply `load`; RuntimeError
  /// on any problem. `allowed_arities` lists the accepted numbers of forward arguments (without self).
  ScriptModel(const std::string& path, ModelRole role, std::vector<int> allowed_arities, const c10::Device& device,
              c10::ScalarType dtype, const LoadOptions& load = {});
  ~ScriptModel() override;

  /// Call forward; a tuple result yields its first element. RuntimeError names the model on failure.
  at::Tensor forward(const std::vector<at::Tensor>& inputs) const override;

  /// The forward graph as TorchScript IR text (tests: a frozen graph reads no weight attributes).
  std::string graph_text() const;
  /// The module's parameters (none once frozen: they are constants of the graph).
  std::vector<at::Tensor> parameters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ModelRole role_;
};

/// Parse "cpu", "cuda" or "cuda:N"; UsageError when unknown or when CUDA is not available.
c10::Device parse_device(const std::string& text);
/// Parse "fp32", "fp16" or "bf16"; UsageError otherwise.
c10::ScalarType parse_dtype(const std::string& text);

/// A UNet file's manifest (docs/models.md): the diffbench.json record inside the TorchScript archive,
/// read without loading the module, else DIR/diffbench.json beside it; an empty object when neither.
nlohmann::json model_metadata(const std::string& path);
/// "fp32", "fp16" or "bf16".
std::string dtype_name(c10::ScalarType dtype);

}  // namespace diffbench
