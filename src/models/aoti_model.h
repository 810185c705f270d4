#pragma once
// An AOTInductor package (.pt2: torch.export's graph compiled by Inductor, the C++ form of
// torch.compile) behind the Model interface; LibTorch 2.6 and later (open_model refuses it before).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "diffbench/models/model.h"

namespace diffbench {

/// A package written by diffbench's exporters (scripts/diffbench_tools/aoti.py): its manifest's
/// "compiled" record gives each input's shape (null: any batch) and dtype, the device and the CPU
/// instruction set it was compiled for, and how long compiling took.
class AotiModel : public Model {
 public:
  AotiModel(const std::string& path, ModelRole role, const std::vector<int>& allowed_arities, const c10::Device& device,
            c10::ScalarType dtype, const LoadOptions& load);
  ~AotiModel() override;

  /// Each input checked against the shape it was compiled for and cast to its dtype (a timestep is
  /// compiled as float32, which holds the discrete samplers' integer timesteps exactly).
  at::Tensor forward(const std::vector<at::Tensor>& inputs) const override;
  std::string format() const override { return "aoti"; }
  std::string shape_refusal(const std::vector<int64_t>& shape) const override;

  struct Input {
    std::vector<std::optional<int64_t>> shape;  ///< nullopt: any size (the batch)
    c10::ScalarType dtype;
  };

 private:
  std::string input_name(size_t i) const;  ///< "sample", "timestep", "encoder_hidden_states", "latents"
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ModelRole role_;
  std::vector<Input> inputs_;
  std::optional<int64_t> batch_max_;  ///< the largest batch the graph holds for (a model may branch on it)
};

}  // namespace diffbench
