// The facts that make a timing comparable: machine, OS, load, BLAS, LibTorch, build.
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/version.h>

#include "models/device.h"
#include "models/torch_runtime.h"
#include "diffbench/report/environment.h"
#include "diffbench/measure/process_info.h"
#include "diffbench/measure/session.h"

namespace diffbench {
namespace {

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

std::string os_name() {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  struct utsname u {};
  return uname(&u) == 0 ? std::string(u.sysname) + " " + u.release : "unknown";
}

// Which BLAS the process actually mapped: Debian's libtorch uses the libblas.so.3
// alternative, which is OpenBLAS only when libopenblas0-* is installed.
std::string loaded_blas() {
  std::ifstream in("/proc/self/maps");
  std::string line, found;
  while (std::getline(in, line)) {
    if (line.find("openblas") != std::string::npos) return "openblas";
    if (line.find("libmkl") != std::string::npos) return "mkl";
    if (line.find("blis") != std::string::npos) found = "blis";
    if (line.find("/blas/libblas.so") != std::string::npos && found.empty()) found = "reference";
  }
  return found.empty() ? "unknown" : found;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// {enabled, why}: whether LibTorch's oneDNN ran the convolutions (torch_runtime.h turns it off
// where it computed a low-precision one wrong).
nlohmann::json onednn_json() {
  const std::string why = onednn_off_reason();
  if (!at::hasMKLDNN()) return {{"enabled", false}, {"why", "LibTorch was built without oneDNN"}};
  return {{"enabled", at::globalContext().userEnabledMkldnn()},
          {"why", why.empty() ? nlohmann::json(nullptr) : nlohmann::json(why)}};
}

// A model's format and, for a compiled package, how long compiling it took (its manifest says; the
// export's figure, never part of a run's time); null without the model.
nlohmann::json model_json(const Model* model) {
  if (!model) return nullptr;
  const nlohmann::json& meta = model->metadata();
  const bool timed = meta.contains("compiled") && meta["compiled"].is_object() &&
                     meta["compiled"].contains("compile_s") && meta["compiled"]["compile_s"].is_number();
  return {{"format", model->format()}, {"compile_s", timed ? meta["compiled"]["compile_s"] : nlohmann::json(nullptr)}};
}

}  // namespace

nlohmann::json environment_context(const Session& session, const SessionRecord& record) {
  const BuildInfo& build = build_info();
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  nlohmann::json governor = nullptr;
  std::string g = first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
  if (!g.empty()) governor = g;
  nlohmann::json context = {
      {"date", utc_now()},
      {"host", host},
      {"os", os_name()},
      {"cpu_model", cpu_model()},
      {"cores", std::thread::hardware_concurrency()},
      {"threads", session.threads},
      {"heap", session.heap_kept ? "keep" : "release"},
      {"onednn", onednn_json()},
      {"load_average", {load[0], load[1], load[2]}},
      {"cpu_governor", governor},
      {"blas", loaded_blas()},
      {"libtorch_version", TORCH_VERSION},
      {"diffbench_version", build.version},
      {"git_sha", build.git_sha},
      {"git_dirty", build.git_dirty},
      {"compiler", build.compiler},
      {"build_type", build.build_type},
      {"device", session.device.str()},
      {"device_name", session.device.is_cuda() ? device::name(session.device) : cpu_model()},
      {"dtype", dtype_name(session.dtype)},
      {"cuda_version", nullptr},
      {"cudnn_version", nullptr},
      {"peak_rss_bytes", static_cast<int64_t>(usage.ru_maxrss) * 1024},
      {"command_line", record.command_line},
      {"from_manifest", record.from_manifest},
      {"models", {{"unet", model_json(session.unet.get())}, {"vae", model_json(session.vae.get())}}},
      {"process",
       {{"id", record.process_id},
        {"pid", getpid()},
        {"cpus", allowed_cpus()},  // the affinity mask the runs had
        {"pinned_cpu", record.pinned_cpu >= 0 ? nlohmann::json(record.pinned_cpu) : nlohmann::json(nullptr)},
        {"load_s", {{"unet", record.unet_load_s}, {"vae", record.vae_load_s}}},
        {"cold_forward_s", record.cold_forward_s ? nlohmann::json(*record.cold_forward_s) : nlohmann::json(nullptr)},
        {"load_average_at_start", record.load_at_start},
        {"cpu_time_s",
         {{"user", double(usage.ru_utime.tv_sec) + double(usage.ru_utime.tv_usec) * 1e-6},
          {"sys", double(usage.ru_stime.tv_sec) + double(usage.ru_stime.tv_usec) * 1e-6}}}}},
      {"warnings", machine_warnings(session.threads, std::thread::hardware_concurrency(), record.load_at_start)},
  };
  if (session.device.is_cuda()) {
    context["cuda_version"] = device::cuda_version();
    context["cudnn_version"] = device::cudnn_version();
  }
  return context;
}

}  // namespace diffbench
