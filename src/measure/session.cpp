// What a session's files are: their hashes, computed once per file and process.
#include <sys/stat.h>

#include <map>
#include <mutex>

#include <fmt/format.h>

#include "diffbench/core/sha256.h"
#include "diffbench/measure/session.h"

namespace diffbench {
namespace {

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

}  // namespace diffbench
