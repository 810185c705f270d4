// Per-process state the runs share: model files' hashes (computed once per file) and the stop signal.
#include <sys/stat.h>

#include <atomic>
#include <map>
#include <mutex>

#include <fmt/format.h>

#include "diffbench/io.h"
#include "diffbench/runner.h"

namespace diffbench {
namespace {

std::atomic<int> g_stop_signal{0};

// A file's SHA-256, hashed once per process for each (path, size, modification time): a file
// rewritten in place is hashed again.
const std::string& file_sha256(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, std::string> hashes;
  struct stat st {};
  const std::string key = stat(path.c_str(), &st) == 0 ? fmt::format("{}|{}|{}", path, st.st_size, st.st_mtime) : path;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = hashes.find(key);
  if (it == hashes.end()) it = hashes.emplace(key, sha256_file(path)).first;
  return it->second;
}

}  // namespace

const std::string& unet_sha256(const Session& session) { return file_sha256(session.unet->path()); }

const std::string& vae_sha256(const Session& session) {
  static const std::string none;
  return session.vae ? file_sha256(session.vae->path()) : none;
}

const char* status_name(RunStatus status) {
  switch (status) {
    case RunStatus::failed: return "failed";
    case RunStatus::interrupted: return "interrupted";
    case RunStatus::ok: break;
  }
  return "ok";
}

void request_stop(int signal_number) { g_stop_signal.store(signal_number); }
int stop_requested() { return g_stop_signal.load(); }

}  // namespace diffbench
