// Shared by `run` and `sweep`: option checks, opening the session, building specs.
#include "diffbench/app/data_files.h"
#include "diffbench/app/open_session.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <thread>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/clock.h"
#include "models/device.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/core/files.h"
#include "diffbench/core/npy.h"
#include "diffbench/models/model.h"
#include "diffbench/models/open_model.h"
#include "diffbench/quality/quality.h"
#include "diffbench/measure/process_info.h"
#include "diffbench/measure/session.h"

namespace diffbench {
namespace {

// Conditioning as wide as the UNet's cross-attention input (its manifest's cond_shape), or an error
// that says so before the first forward call fails somewhere inside the model.
void check_cond_width(const Session& session, const at::Tensor& t, const std::string& flag, const std::string& path) {
  auto expected = session.unet->cond_shape();
  if (expected && expected->size() == 3 && t.size(2) != (*expected)[2]) {
    throw UsageError(
        fmt::format("{} '{}' is {} wide, but '{}' takes encoder_hidden_states {} wide (its manifest's "
                    "cond_shape): embed the prompt with this model's text encoder",
                    flag, path, t.size(2), session.unet->path(), (*expected)[2]));
  }
}

void load_conditioning(Session& session, const SessionSettings& o, const ModelFiles& files) {
  if (session.unet->arity() != 3) {
    if (!o.cond.empty() || !o.uncond.empty() || o.cond_shape) {
      throw UsageError(fmt::format("{}/{}/{} need a conditional UNet; '{}' takes (sample, timestep)",
                                   setting_name("cond"), setting_name("uncond"), setting_name("cond_shape"),
                                   session.unet->path()));
    }
    return;
  }
  auto load = [](const std::string& path, const std::string& flag) {
    at::Tensor t = from_npy(read_file(path, flag), fmt::format("{} '{}'", flag, path));
    if (t.dim() == 2) t = t.unsqueeze(0);
    if (t.dim() != 3)
      throw UsageError(fmt::format("{} '{}' must be [B, L, D] (or [L, D]), got {} dims", flag, path, t.dim()));
    return t;
  };
  if (!files.cond.empty()) {
    session.cond = load(files.cond, setting_name("cond"));
    session.cond_source = files.cond;
    check_cond_width(session, session.cond, setting_name("cond"), files.cond);
  } else {
    std::vector<int64_t> shape = o.cond_shape.value_or(session.unet->cond_shape().value_or(std::vector<int64_t>{}));
    if (shape.empty()) {
      throw UsageError(fmt::format("UNet '{}' takes encoder_hidden_states: give {} FILE.npy or {} B,L,D",
                                   session.unet->path(), setting_name("cond"), setting_name("cond_shape")));
    }
    session.cond = at::zeros(shape);  // timing-only conditioning
    session.cond_source = "zeros";
  }
  if (!files.uncond.empty()) {
    session.uncond = load(files.uncond, setting_name("uncond"));
    session.uncond_source = files.uncond;
    check_cond_width(session, session.uncond, setting_name("uncond"), files.uncond);
  }
}

// --interop-threads: LibTorch allows setting it once, before any inter-op work; the same value again
// is fine (ablate opens one session per configuration).
void set_interop_threads(int n) {
  if (n <= 0 || static_cast<int>(at::get_num_interop_threads()) == n) return;
  try {
    at::set_num_interop_threads(n);
  } catch (const std::exception&) {
    throw UsageError(
        fmt::format("{} {}: LibTorch sets inter-op threads once per process, and they "
                    "are already {}; give the same value to every run of one process",
                    setting_name("interop_threads"), n, at::get_num_interop_threads()));
  }
}

}  // namespace

ModelFiles model_files(const RunSetup& setup, const ModelManifest& m, std::vector<std::string>* taken) {
  const SessionSettings& o = setup.session;
  ModelFiles f;
  auto pick = [&](const char* key, const std::string& flag, const std::string& manifest, bool allowed) {
    if (!flag.empty() || !allowed || manifest.empty()) return flag;
    if (taken) taken->push_back(fmt::format("{}={}", key, manifest));
    return manifest;
  };
  f.vae = pick("vae", o.vae, m.vae, true);
  const bool cond_given = !o.cond.empty() || o.cond_shape;
  f.cond = pick("cond", o.cond, m.cond, !cond_given);
  f.uncond = pick("uncond", o.uncond, m.uncond, !cond_given);
  f.features = pick("features", setup.quality.feature_model, m.features, true);
  f.fd_stats = pick("fd_stats", setup.quality.reference_stats, m.fd_stats, true);
  f.vae_scaling_factor = o.vae_scaling_factor.value_or(m.vae_scaling_factor.value_or(kSdVaeScalingFactor));
  if (taken && !o.vae_scaling_factor && m.vae_scaling_factor)
    taken->push_back(fmt::format("vae_scaling_factor={:.6g}", *m.vae_scaling_factor));
  return f;
}

namespace {

// The UNet in the dtype asked for, else the one its manifest says it was exported in, else fp32; from
// the manifest's export in the dtype asked for where it names one (a trace keeps its dtype). The
// manifest is read first, so the model is loaded once, in its final dtype.
void open_unet(Session& session, SessionRecord& record, const SessionSettings& o, const std::string& path) {
  const double start = now_s();
  std::string file = path;
  session.manifest = parse_manifest(model_metadata(path), path);
  const auto& variants = session.manifest.dtype_models;
  if (o.dtype && variants.count(*o.dtype) && session.manifest.dtype != *o.dtype) {
    file = variants.at(*o.dtype);
    session.manifest = parse_manifest(model_metadata(file), file);
    record.from_manifest.push_back(fmt::format("unet={} (its {} export)", file, dtype_name(*o.dtype)));
  }
  session.dtype = o.dtype.value_or(session.manifest.dtype.value_or(c10::kFloat));
  if (o.compiled && !is_aoti_package(file)) {  // its AOTInductor package of that dtype
    const auto package = session.manifest.packages.find(session.dtype);
    if (package == session.manifest.packages.end())
      throw UsageError(fmt::format("{}: '{}' names no AOTInductor package in {} (its manifest's packages): export "
                                   "it in the aoti format too", setting_name("compiled"), file, dtype_name(session.dtype)));
    file = package->second;
    session.manifest = parse_manifest(model_metadata(file), file);
    record.from_manifest.push_back(fmt::format("unet={} (its AOTInductor package)", file));
  }
  if (!o.dtype && session.manifest.dtype) record.from_manifest.push_back("dtype=" + dtype_name(session.dtype));
  session.unet = open_model(file, ModelRole::unet, std::vector<int>{2, 3}, session.device, session.dtype, session.load);
  record.unet_load_s = now_s() - start;
}

}  // namespace

Session open_session(const RunSetup& setup, const std::string& unet_path, SessionRecord& record) {
  const SessionSettings& o = setup.session;
  Session session;
  record = SessionRecord{};
  record.process_id = new_process_id();
  record.command_line = setup.command_line;
  double load[1] = {0};
  if (getloadavg(load, 1) == 1) record.load_at_start = load[0];
  session.device = o.device;
  if (o.pin && (record.pinned_cpu = pin_to_one_cpu()) < 0)
    throw RuntimeError(setting_name("pin") + ": the kernel refused to pin this process to one CPU");
  session.heap_kept = o.keep_heap && keep_freed_memory();
  session.trim_before_runs = o.trim_before_runs;
  session.threads = o.pin ? 1 : o.threads.value_or(usable_cores());
  at::set_num_threads(session.threads);
  set_interop_threads(o.interop_threads);
  session.interop_threads = o.interop_threads;
  session.load = o.load;
  session.cuda_events = o.cuda_events;
  open_unet(session, record, o, unet_path);
  const ModelFiles files = model_files(setup, session.manifest, &record.from_manifest);
  session.vae_scaling_factor = files.vae_scaling_factor;
  if (!files.vae.empty()) {
    const double start = now_s();
    session.vae =
        open_model(files.vae, ModelRole::vae, std::vector<int>{1}, session.device, session.dtype, session.load);
    record.vae_load_s = now_s() - start;
  }
  if (o.vae_tiling) {
    if (!session.vae)
      throw UsageError(fmt::format("{} needs a VAE: give {}, or a model whose manifest names one",
                                   setting_name("vae_tiling"), setting_name("vae")));
    if (session.vae->format() == "aoti")  // its tiles are latents of another size than it was compiled for
      throw UsageError(fmt::format("{} needs a TorchScript VAE: '{}' is an AOTInductor package, compiled for the "
                                   "whole latent", setting_name("vae_tiling"), session.vae->path()));
    session.vae_tiling = o.vae_tiling;
  }
  if (o.cuda_graphs) {
    if (device::cuda_available() && !session.device.is_cuda())
      throw UsageError(fmt::format("{} needs {} cuda (CUDA graphs capture GPU work)", setting_name("cuda_graphs"),
                                   setting_name("device")));
    session.unet = device::with_cuda_graphs(std::move(session.unet));
    session.cuda_graphs = true;
  }
  load_conditioning(session, o, files);
  if (!setup.out.quiet && !record.from_manifest.empty()) {
    std::string list;
    for (const auto& item : record.from_manifest) list += (list.empty() ? "" : ", ") + item;
    std::fprintf(stderr, "note: from the model's manifest (%s): %s\n", unet_path.c_str(), list.c_str());
  }
  return session;
}

}  // namespace diffbench
