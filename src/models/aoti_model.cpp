// AOTInductor packages behind the Model interface (the only file that sees the package loader).
#include "models/aoti_model.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/version.h>

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 6)
#define DIFFBENCH_AOTI 1
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#endif

#include "models/torch_runtime.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/names.h"
#include "diffbench/core/setting_names.h"

namespace diffbench {

struct AotiModel::Impl {
#ifdef DIFFBENCH_AOTI
  std::unique_ptr<torch::inductor::AOTIModelPackageLoader> loader;
#endif
};

namespace {

std::optional<c10::ScalarType> scalar_type(const std::string& name) {
  if (name == "float32") return c10::kFloat;
  if (name == "bfloat16") return c10::kBFloat16;
  if (name == "float16") return c10::kHalf;
  if (name == "int64") return c10::kLong;
  return std::nullopt;
}

std::string shape_text(const std::vector<std::optional<int64_t>>& shape) {
  std::vector<std::string> dims;
  for (const auto& d : shape) dims.push_back(d ? std::to_string(*d) : "B");
  return fmt::format("[{}]", fmt::join(dims, ","));
}

std::string sizes_text(at::IntArrayRef sizes) { return fmt::format("[{}]", fmt::join(sizes, ",")); }

// `got` has the compiled shape `want` (nullopt: any size).
bool fits(const std::vector<std::optional<int64_t>>& want, at::IntArrayRef got) {
  if (want.size() != got.size()) return false;
  for (size_t d = 0; d < want.size(); ++d) {
    if (want[d] && *want[d] != got[d]) return false;
  }
  return true;
}

// The manifest's "compiled" record: one Input per forward argument; RuntimeError when it is missing
// (a package diffbench's exporters did not write) or malformed.
std::vector<AotiModel::Input> compiled_inputs(const nlohmann::json& meta, const std::string& path) {
  const auto fix = "export it in the aoti format of scripts/export_models.py or scripts/export_diffusers.py";
  if (!meta.contains("compiled") || !meta["compiled"].is_object() || !meta["compiled"].contains("inputs") ||
      !meta["compiled"]["inputs"].is_array())
    throw RuntimeError(
        fmt::format("'{}' is an AOTInductor package without diffbench's manifest of what it was "
                    "compiled for (extra/diffbench.json, \"compiled\"); {}",
                    path, fix));
  std::vector<AotiModel::Input> inputs;
  for (const auto& in : meta["compiled"]["inputs"]) {
    AotiModel::Input input{{}, c10::kFloat};
    const auto dtype = in.is_object() && in.contains("dtype") && in["dtype"].is_string()
                           ? scalar_type(in["dtype"].get<std::string>())
                           : std::nullopt;
    if (!dtype || !in.contains("shape") || !in["shape"].is_array())
      throw RuntimeError(fmt::format("'{}': its manifest's compiled inputs are malformed; {}", path, fix));
    input.dtype = *dtype;
    for (const auto& d : in["shape"])
      input.shape.push_back(d.is_number_integer() ? std::optional(d.get<int64_t>()) : std::nullopt);
    inputs.push_back(std::move(input));
  }
  return inputs;
}

// The instruction sets a CPU package's kernels use ("avx512 avx512_vnni"), each one this CPU must
// have: a kernel built for another CPU dies of an illegal instruction, not an error.
void check_cpu_isa(const nlohmann::json& compiled, const std::string& path) {
  if (!compiled.contains("cpu_isa") || !compiled["cpu_isa"].is_string()) return;
  std::ifstream in("/proc/cpuinfo");
  const std::string info((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (info.empty()) return;
  std::istringstream isa(compiled["cpu_isa"].get<std::string>());
  for (std::string part; isa >> part;) {
    const std::string flag = part == "avx512" ? "avx512f" : part;
    if (info.find(" " + flag) == std::string::npos)
      throw RuntimeError(
          fmt::format("'{}' was compiled for a CPU with {}, which this one lacks; export the package "
                      "again on this machine (a package holds machine code for the CPU it was made on)",
                      path, part));
  }
}

}  // namespace

AotiModel::AotiModel(const std::string& path, ModelRole role, const std::vector<int>& arities,
                     const c10::Device& device, c10::ScalarType dtype, const LoadOptions& load)
    : Model(path, 0, dtype), impl_(std::make_unique<Impl>()), role_(role) {
  const std::string what = role_name(role);
  for (const auto& [option, asked] :
       {std::pair{"freeze", load.freeze}, std::pair{"channels_last", load.channels_last}}) {
    if (asked)
      throw UsageError(
          fmt::format("{} applies to TorchScript models; {} '{}' is an AOTInductor package, compiled "
                      "already: run it without {}",
                      setting_name(option), what, path, setting_name(option)));
  }
  take_manifest(model_metadata(path));
  inputs_ = compiled_inputs(metadata_, path);
  arity_ = static_cast<int>(inputs_.size());
  if (std::find(arities.begin(), arities.end(), arity_) == arities.end())
    throw RuntimeError(fmt::format("{} '{}' was compiled for {} input(s); expected {}", what, path, arity_,
                                   fmt::join(arities, " or ")));
  const nlohmann::json& compiled = metadata_["compiled"];
  if (compiled.contains("batch") && compiled["batch"].is_array() && compiled["batch"].size() == 2 &&
      compiled["batch"][1].is_number_integer())
    batch_max_ = compiled["batch"][1].get<int64_t>();
  const std::string made_for = compiled.value("device", "cpu");
  if (made_for != c10::DeviceTypeName(device.type(), /*lower_case=*/true))
    throw UsageError(fmt::format("{} '{}' was compiled for {}; run it with {} {}, or export a package for {}", what,
                                 path, made_for, setting_name("device"), made_for, device.str()));
  if (inputs_[0].dtype != dtype)
    throw UsageError(fmt::format("{} '{}' was compiled in {}; run it with {} {}, or export a package in {}", what, path,
                                 dtype_name(inputs_[0].dtype), setting_name("dtype"), dtype_name(inputs_[0].dtype),
                                 dtype_name(dtype)));
  if (device.is_cpu()) check_cpu_isa(compiled, path);
  if (metadata_.contains("parameters") && metadata_["parameters"].is_number_integer())
    param_bytes_ = metadata_["parameters"].get<int64_t>() * static_cast<int64_t>(c10::elementSize(dtype));
#ifdef DIFFBENCH_AOTI
  try {
    configure_torch_runtime();
    impl_->loader = std::make_unique<torch::inductor::AOTIModelPackageLoader>(
        path, "model", /*run_single_threaded=*/false, /*num_runners=*/1, device.is_cuda() ? device.index() : -1);
  } catch (const std::exception& e) {
    throw RuntimeError(
        fmt::format("cannot load {} '{}': not a valid AOTInductor package ({})", what, path, one_line(e)));
  }
#else
  throw RuntimeError(fmt::format("cannot load {} '{}': LibTorch {} has no AOTInductor", what, path, TORCH_VERSION));
#endif
}

AotiModel::~AotiModel() = default;

std::string AotiModel::shape_refusal(const std::vector<int64_t>& shape) const {
  const auto& own = inputs_[0].shape;
  if (!fits(own, shape)) {
    return fmt::format(
        "{} '{}' was compiled for latents {} (B: any batch), not {}: run at that {}, or export a "
        "package at this shape (the exporters' aoti format)",
        role_name(role_), path_, shape_text(own), sizes_text(shape), setting_name("shape"));
  }
  if (batch_max_ && !shape.empty() && shape[0] > *batch_max_) {
    return fmt::format(
        "{} '{}' was compiled for batches up to {} (the graph branches above), not {} (guidance "
        "doubles the batch): run a smaller batch ({})",
        role_name(role_), path_, *batch_max_, shape[0], setting_name("shape"));
  }
  return "";
}

std::string AotiModel::input_name(size_t i) const {
  static const char* const unet[] = {"sample", "timestep", "encoder_hidden_states"};
  if (role_ == ModelRole::unet && i < 3) return unet[i];
  return i == 0 && role_ == ModelRole::vae ? "latents" : fmt::format("input {}", i + 1);
}

at::Tensor AotiModel::forward(const std::vector<at::Tensor>& inputs) const {
  std::vector<at::Tensor> args;
  for (size_t i = 0; i < inputs.size() && i < inputs_.size(); ++i) {
    const auto& want = inputs_[i].shape;
    if (!fits(want, inputs[i].sizes()))
      throw UsageError(
          fmt::format("{} '{}': {} has shape {}; it was compiled for {} (B: any batch): export a "
                      "package for this shape (the exporters' aoti format)",
                      role_name(role_), path_, input_name(i), sizes_text(inputs[i].sizes()), shape_text(want)));
    if (batch_max_ && !want.empty() && !want[0] && inputs[i].size(0) > *batch_max_)
      throw UsageError(fmt::format("{} '{}': {} has batch {}; it was compiled for batches up to {}", role_name(role_),
                                   path_, input_name(i), inputs[i].size(0), *batch_max_));
    args.push_back(inputs[i].to(inputs_[i].dtype).contiguous());
  }
#ifdef DIFFBENCH_AOTI
  try {
    return impl_->loader->run(args).at(0);
  } catch (const std::exception& e) {
    throw ModelError(fmt::format("{} '{}' failed in forward: {}", role_name(role_), path_, one_line(e)));
  }
#else
  throw ModelError(fmt::format("{} '{}': this LibTorch has no AOTInductor", role_name(role_), path_));
#endif
}

}  // namespace diffbench
