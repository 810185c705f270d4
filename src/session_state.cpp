// Per-process state the runs share: model hashes (computed once) and the stop signal.
#include <atomic>

#include "diffbench/io.h"
#include "diffbench/runner.h"

namespace diffbench {
namespace {

std::atomic<int> g_stop_signal{0};

}  // namespace

const std::string& unet_sha256(const Session& session) {
  if (session.unet_sha256.empty()) session.unet_sha256 = sha256_file(session.unet->path());
  return session.unet_sha256;
}

const std::string& vae_sha256(const Session& session) {
  if (session.vae_sha256.empty() && session.vae) session.vae_sha256 = sha256_file(session.vae->path());
  return session.vae_sha256;
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
