// TorchScript loading: the only file that includes torch/script.h (slow to compile).
#include <sys/stat.h>

#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <caffe2/serialize/inline_container.h>
#include <nlohmann/json.hpp>
#include <torch/script.h>
#include <torch/version.h>

#include "models/device.h"
#include "models/torch_runtime.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/parse.h"
#include "diffbench/models/model.h"
#include "diffbench/core/names.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/core/json_depth.h"

namespace diffbench {

struct ScriptModel::Impl {
  torch::jit::Module module;
};

const char* role_name(ModelRole role) {
  switch (role) {
    case ModelRole::unet: return "UNet";
    case ModelRole::vae: return "VAE";
    case ModelRole::features: break;
  }
  return "feature model";
}

namespace {

std::optional<std::vector<int64_t>> shape_from(const nlohmann::json& meta, const char* key) {
  if (!meta.contains(key) || !meta[key].is_array()) return std::nullopt;
  std::vector<int64_t> shape;
  for (const auto& d : meta[key]) {
    if (!d.is_number_integer()) return std::nullopt;
    shape.push_back(d.get<int64_t>());
  }
  return shape;
}

// Readable, non-empty, and a zip archive (what torch.jit.save writes), before LibTorch sees it.
void check_file(const std::string& path, const std::string& role) {
  struct stat st {};
  // A path that names no file is the command line's fault (exit 2); a file that cannot be used is not (1).
  if (stat(path.c_str(), &st) != 0) {
    throw UsageError(
        fmt::format("cannot load {} '{}': no such file; pass the path of a TorchScript "
                    "file (scripts/export_models.py writes examples)",
                    role, path));
  }
  if (S_ISDIR(st.st_mode)) throw UsageError(fmt::format("cannot load {} '{}': it is a directory", role, path));
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw RuntimeError(fmt::format("cannot load {} '{}': file is not readable (check its permissions)", role, path));
  if (st.st_size == 0) throw RuntimeError(fmt::format("cannot load {} '{}': file is empty", role, path));
  char magic[4] = {};
  in.read(magic, 4);
  if (in.gcount() < 4 || std::string(magic, 4) != std::string("PK\x03\x04", 4)) {
    throw RuntimeError(
        fmt::format("cannot load {} '{}': not a TorchScript file (expected the zip archive "
                    "torch.jit.save writes; export with torch.jit.script or torch.jit.trace)",
                    role, path));
  }
}

// --channels-last, then --freeze (so the frozen constants keep the memory format).
void apply_load_options(torch::jit::Module& module, const LoadOptions& load, const std::string& role,
                        const std::string& path) {
  torch::NoGradGuard no_grad;
  if (load.channels_last) {
    for (auto p : module.parameters()) {
      if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
    }
  }
  if (!load.freeze) return;
  try {
    module = torch::jit::freeze(module);
    if (inference_rewrite_safe()) torch::jit::optimize_for_inference(module);
  } catch (const std::exception& e) {
    throw RuntimeError(fmt::format("cannot freeze {} '{}' ({}): {}; run without {}", role, path, setting_name("freeze"),
                                   one_line(e), setting_name("freeze")));
  }
}

// A model's manifest from the text embedded in its file, else (a UNet's) DIR/diffbench.json beside
// DIR/unet.pt; an empty object when neither holds a JSON object.
nlohmann::json manifest_json(std::string text, const std::string& path, bool look_beside) {
  if (text.empty() && look_beside) {
    const size_t slash = path.rfind('/');
    std::ifstream beside((slash == std::string::npos ? std::string(".") : path.substr(0, slash)) + "/diffbench.json");
    text.assign(std::istreambuf_iterator<char>(beside), std::istreambuf_iterator<char>());
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return nlohmann::json::object();  // no manifest
  // #42: a corrupt manifest was ignored (the model ran at the default shape); a deep one crashed.
  if (const std::string deep = json_nesting_problem(text); !deep.empty())
    throw RuntimeError(fmt::format("the manifest of '{}' is not valid: {}", path, deep));
  auto meta = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!meta.is_object()) {
    throw RuntimeError(fmt::format("the manifest of '{}' (diffbench.json) is {}; it must be a JSON object "
                                   "(docs/models.md), or remove it", path, meta.is_discarded() ? "not valid JSON" : "not an object"));
  }
  return meta;
}

// torch::jit::load, its failures said in one line (a file saved by a newer torch is named as such).
torch::jit::Module load_script_module(const std::string& path, const std::string& role, const c10::Device& device,
                                      torch::jit::ExtraFilesMap& extra) {
  try {
    configure_torch_runtime();
    return torch::jit::load(path, device, extra);
  } catch (const std::exception& e) {
    const std::string why = one_line(e);
    if (why.find("maximum supported version") != std::string::npos) {  // saved by a newer torch
      throw RuntimeError(fmt::format(
          "cannot load {} '{}': it was saved by a newer torch than the LibTorch {} diffbench was built with ({}); "
          "build diffbench against that torch's LibTorch (README: Building against CUDA) or export with torch {}",
          role, path, TORCH_VERSION, why, TORCH_VERSION));
    }
    throw RuntimeError(fmt::format("cannot load {} '{}': not a valid TorchScript file ({})", role, path, why));
  }
}

// forward's argument count without self: one of `arities`, every argument a Tensor.
int forward_arity(torch::jit::Module& module, ModelRole model_role, const std::vector<int>& arities,
                  const std::string& path) {
  const std::string role = role_name(model_role);
  auto forward = module.find_method("forward");
  if (!forward) throw RuntimeError(fmt::format("{} '{}' has no forward method", role, path));
  const auto& arguments = forward->function().getSchema().arguments();
  const int arity = static_cast<int>(arguments.size()) - 1;
  std::vector<std::string> names;
  for (size_t i = 1; i < arguments.size(); ++i) names.push_back(arguments[i].name());
  if (std::find(arities.begin(), arities.end(), arity) == arities.end()) {
    // Only the forms this caller accepts: an embedder that asks for {2} is told (sample, timestep).
    std::vector<std::string> forms;
    for (int a : arities) {
      if (model_role == ModelRole::vae)
        forms.push_back("(latents)");
      else if (model_role == ModelRole::features)
        forms.push_back("(images)");
      else
        forms.push_back(a == 2 ? "(sample, timestep)" : "(sample, timestep, encoder_hidden_states)");
    }
    const std::string expected = fmt::format("{}", fmt::join(forms, " or "));
    throw RuntimeError(fmt::format("{} '{}': forward takes {} argument(s) ({}); expected {}", role, path, arity,
                                   fmt::join(names, ", "), expected));
  }
  for (size_t i = 1; i < arguments.size(); ++i) {
    if (arguments[i].type()->kind() != c10::TypeKind::TensorType) {
      throw RuntimeError(fmt::format("{} '{}': forward argument '{}' has type {}; diffbench passes Tensors", role, path,
                                     arguments[i].name(), arguments[i].type()->str()));
    }
  }
  return arity;
}

}  // namespace

ScriptModel::ScriptModel(const std::string& path, ModelRole model_role, std::vector<int> arities,
                         const c10::Device& device, c10::ScalarType dtype, const LoadOptions& load)
    : Model(path, 0, dtype), impl_(std::make_unique<Impl>()), role_(model_role) {
  const std::string role = role_name(model_role);
  check_file(path, role);
  torch::jit::ExtraFilesMap extra{{"diffbench.json", ""}};
  impl_->module = load_script_module(path, role, device, extra);
  impl_->module.eval();
  arity_ = forward_arity(impl_->module, model_role, arities, path);
  if (dtype != c10::kFloat) {
    try {
      impl_->module.to(dtype);
    } catch (const std::exception& e) {
      throw RuntimeError(fmt::format("cannot convert {} '{}' to {}: {}", role, path, dtype_name(dtype), one_line(e)));
    }
    if (device.is_cpu()) guard_low_precision_convolutions(dtype);  // the runs' notes say when it acted
  }
  for (const auto& p : impl_->module.parameters()) param_bytes_ += p.numel() * p.element_size();
  for (const auto& b : impl_->module.buffers()) param_bytes_ += b.numel() * b.element_size();
  apply_load_options(impl_->module, load, role, path);
  take_manifest(manifest_json(extra["diffbench.json"], path, model_role == ModelRole::unet));
}

void Model::take_manifest(nlohmann::json manifest) {
  metadata_ = std::move(manifest);
  sample_shape_ = shape_from(metadata_, "sample_shape");
  cond_shape_ = shape_from(metadata_, "cond_shape");
}

nlohmann::json model_metadata(const std::string& path) {
  std::string embedded;
  try {  // the one record inside the file's zip archive, without loading the module
    caffe2::serialize::PyTorchStreamReader reader(path);
    if (reader.hasRecord("extra/diffbench.json")) {
      auto [data, size] = reader.getRecord("extra/diffbench.json");
      embedded.assign(static_cast<const char*>(data.get()), size);
    }
  } catch (const std::exception&) {  // not a TorchScript archive: loading it says why
  }
  return manifest_json(embedded, path, true);
}

ScriptModel::~ScriptModel() = default;

at::Tensor ScriptModel::forward(const std::vector<at::Tensor>& inputs) const {
  std::vector<c10::IValue> args(inputs.begin(), inputs.end());
  c10::IValue result;
  try {
    result = impl_->module.forward(args);
  } catch (const std::exception& e) {
    throw ModelError(fmt::format("{} '{}' failed in forward: {}", role_name(role_), path_, one_line(e)));
  }
  if (result.isTensor()) return result.toTensor();
  if (result.isTuple()) {
    const auto& elements = result.toTuple()->elements();
    if (!elements.empty() && elements[0].isTensor()) return elements[0].toTensor();
  }
  throw RuntimeError(
      fmt::format("{} '{}': forward returned {}; expected a Tensor or a tuple whose first "
                  "element is a Tensor",
                  role_name(role_), path_, result.tagKind()));
}

std::string ScriptModel::graph_text() const { return impl_->module.get_method("forward").graph()->toString(); }

std::vector<at::Tensor> ScriptModel::parameters() const {
  std::vector<at::Tensor> out;
  for (const auto& p : impl_->module.parameters()) out.push_back(p);
  return out;
}

c10::Device parse_device(const std::string& text) {
  if (text == "cpu") return c10::Device(c10::kCPU);
  if (text == "cuda" || text.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (text.size() > 5) {
      const std::optional<int64_t> digits = parse_whole_number(std::string_view(text).substr(5), 999);
      if (!digits) throw UsageError(fmt::format("{} '{}': expected cpu, cuda or cuda:N", setting_name("device"), text));
      index = static_cast<int>(*digits);
    }
    if (!device::cuda_available()) {
      throw UsageError(
          fmt::format("{} {}: CUDA is not available in this build or on this machine "
                      "(diffbench was built against a CPU-only LibTorch or no GPU is visible); use {} cpu",
                      setting_name("device"), text, setting_name("device")));
    }
    if (index >= device::cuda_device_count()) {
      throw UsageError(fmt::format("{} {}: only {} CUDA device(s) visible", setting_name("device"), text,
                                   device::cuda_device_count()));
    }
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw UsageError(unknown_name_message("device", text, {"cpu", "cuda", "cuda:N"}));
}

c10::ScalarType parse_dtype(const std::string& text) {
  if (text == "fp32") return c10::kFloat;
  if (text == "fp16") return c10::kHalf;
  if (text == "bf16") return c10::kBFloat16;
  throw UsageError(unknown_name_message("dtype", text, {"fp32", "fp16", "bf16"}));
}

std::string dtype_name(c10::ScalarType dtype) {
  switch (dtype) {
    case c10::kHalf: return "fp16";
    case c10::kBFloat16: return "bf16";
    default: return "fp32";
  }
}

}  // namespace diffbench
