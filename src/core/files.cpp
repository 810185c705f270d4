// Writing files so that a failure never leaves a truncated file where a good one was.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/files.h"

namespace diffbench {
namespace {

// The folder holding `path`; trailing slashes name the same path ("digits/" is in ".").
std::string parent_of(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

namespace {

// A device, FIFO or /dev/stdout cannot be replaced by a rename: write to it directly.
void write_directly(const std::string& path, const std::string& data) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) throw RuntimeError(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      close(fd);
      throw RuntimeError(fmt::format("cannot write '{}': {}", path, std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  close(fd);
}

}  // namespace

// Where a path leads through symbolic links, the last one possibly dangling: the file to replace.
// Renaming onto the link itself would replace the link with a file.
static std::string through_links(std::string path) {
  for (int hops = 0; hops < 40; ++hops) {
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
    char target[4096];
    ssize_t n = readlink(path.c_str(), target, sizeof target - 1);
    if (n <= 0) return path;
    std::string next(target, static_cast<size_t>(n));
    const size_t slash = path.rfind('/');
    path = next[0] == '/' || slash == std::string::npos ? next : path.substr(0, slash + 1) + next;
  }
  return path;
}

void write_file_atomically(const std::string& link_or_path, const std::string& data) {
  const std::string path = through_links(link_or_path);
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) return write_directly(path, data);
  std::string tmp = fmt::format("{}.tmp.{}", path, getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw RuntimeError(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      unlink(tmp.c_str());
      throw RuntimeError(
          fmt::format("cannot write '{}': {} (the previous file, if any, is unchanged)", path, std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    throw RuntimeError(
        fmt::format("cannot write '{}': {} (the previous file, if any, is unchanged)", path, std::strerror(err)));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    throw RuntimeError(fmt::format("cannot write '{}': {}", path, std::strerror(err)));
  }
}

void append_line(const std::string& path, const std::string& line) {
  if (path == "-") {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
    return;
  }
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw RuntimeError(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  std::string data = line + "\n";
  struct stat st {};
  const bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  // One write (O_APPEND lines do not interleave); after a short one (a full disk, `ulimit -f`) the
  // rest is tried, for the reason, and the partial line is cut off again so the file stays whole.
  size_t done = 0;
  int err = 0;
  while (done < data.size() && err == 0) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) err = n < 0 ? errno : ENOSPC;
    else done += static_cast<size_t>(n);
  }
  // fsync makes a regular file durable; a device, pipe or /dev/stdout has nothing to sync (EINVAL).
  if (err == 0 && regular && fsync(fd) != 0) err = errno;
  if (err != 0 && regular && done > 0 && ftruncate(fd, st.st_size) != 0) err = errno;
  close(fd);
  if (err != 0) throw RuntimeError(fmt::format("cannot append to '{}': {}", path, std::strerror(err)));
}

void truncate_file(const std::string& path, size_t length) {
  if (truncate(path.c_str(), static_cast<off_t>(length)) != 0) {
    throw RuntimeError(fmt::format("cannot truncate '{}': {}", path, std::strerror(errno)));
  }
}

std::string output_identity(const std::string& path) {
  if (path == "-" || path == "/dev/stdout") return "-";
  char resolved[PATH_MAX];
  std::string dir = parent_of(path), base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  if (realpath(path.c_str(), resolved)) return resolved;  // an existing file, through any links
  if (realpath(dir.c_str(), resolved)) return std::string(resolved) + "/" + base;
  return path;
}

void check_writable(const std::string& path, const std::string& flag) {
  if (path == "-") return;
  if (path.empty()) throw UsageError(fmt::format("{} needs a file name", flag));
  // #42: a 300-character name failed only after the run, when the file was written.
  const std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  if (base.size() + 16 > NAME_MAX) {  // the atomic write's temporary name adds a suffix of up to 16
    throw UsageError(fmt::format("{}: a file name of {} bytes is longer than this file system takes ({} with the "
                                 "temporary suffix); give a shorter one",
                                 flag, base.size(), NAME_MAX - 16));
  }
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw UsageError(fmt::format("{} '{}' is a directory; give a file name", flag, path));
  }
  std::string dir = parent_of(path);
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw UsageError(fmt::format("{} '{}': directory '{}' does not exist; create it first", flag, path, dir));
  }
  if (access(dir.c_str(), W_OK) != 0) {
    throw UsageError(fmt::format("{} '{}': directory '{}' is not writable", flag, path, dir));
  }
}

void check_writable_dir(const std::string& dir, const std::string& flag) {
  struct stat st {};
  if (stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) throw UsageError(fmt::format("{} '{}' exists and is not a directory", flag, dir));
    if (access(dir.c_str(), W_OK) != 0) throw UsageError(fmt::format("{} '{}' is not writable", flag, dir));
    return;
  }
  std::string parent = parent_of(dir);
  if (stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || access(parent.c_str(), W_OK) != 0) {
    throw UsageError(fmt::format("{} '{}': cannot create it, '{}' is missing or not writable", flag, dir, parent));
  }
}

// A path that names no file (missing, a directory) is a usage error: the command must change. A file
// that is there but cannot be read is a runtime failure. One rule for every input (README, exit codes).
std::string read_file(const std::string& path, const std::string& what) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) throw UsageError(fmt::format("cannot read {} '{}': no such file", what, path));
  if (S_ISDIR(st.st_mode)) throw UsageError(fmt::format("cannot read {} '{}': it is a directory", what, path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RuntimeError(fmt::format("cannot read {} '{}': permission denied", what, path));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void check_not_an_input(const std::string& output, const std::string& flag, const std::vector<std::string>& inputs) {
  if (output.empty() || output == "-") return;
  for (const auto& input : inputs) {
    if (output_identity(input) == output_identity(output))
      throw UsageError(fmt::format("{} '{}' is also an input: writing onto it would destroy it; name another file", flag,
                                   output));
  }
}

std::string write_keeping_earlier_results(const std::string& path, const std::string& data) {
  std::string kept;
  std::ifstream in(path, std::ios::binary);
  std::string head(4096, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(in ? head.size() : static_cast<size_t>(std::max<std::streamsize>(0, in.gcount())));
  if (head.find("\"schema_version\"") != std::string::npos || head.find("\"kind\"") != std::string::npos) {
    for (int n = 1; kept.empty(); ++n) {
      const std::string name = fmt::format("{}.~{}~", path, n);
      struct stat st {};
      if (lstat(name.c_str(), &st) == 0) continue;
      if (link(path.c_str(), name.c_str()) != 0) write_file_atomically(name, read_file(path, "earlier results"));
      kept = name;
    }
  }
  try {
    write_file_atomically(path, data);
  } catch (...) {
    if (!kept.empty()) unlink(kept.c_str());
    throw;
  }
  return kept;
}

}  // namespace diffbench
