// Writing a sweep's cells as they finish, resumed files included.
#include "diffbench/app/sweep_output.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include "diffbench/app/outputs.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/core/files.h"
#include "diffbench/report/json.h"

namespace diffbench {

SweepWriter::SweepWriter(std::string json_path, std::string jsonl_path, const Report& previous, bool quiet,
                         bool rewrite, JournalLock* lock)
    : lock_(lock),
      json_path_(std::move(json_path)),
      jsonl_path_(std::move(jsonl_path)),
      previous_(previous),
      quiet_(quiet),
      rewrite_(rewrite),
      runs_(previous.runs) {}

void SweepWriter::start(std::function<nlohmann::json()> context) {
  context_ = std::move(context);
  if (jsonl_path_.empty() || jsonl_path_ == "-") return;
  if (previous_.path.empty()) return;
  if (!rewrite_ && output_identity(jsonl_path_) == output_identity(previous_.path)) {
    // Appending after a cut-off line would glue the next cell onto it: drop it first.
    if (previous_.truncated_tail) {
      truncate_file(jsonl_path_, previous_.valid_bytes);
      if (!quiet_) {
        std::fprintf(stderr, "note: dropped the cut-off line %d of '%s' (a write interrupted by a crash or kill)\n",
                     previous_.truncated_line, previous_.path.c_str());
      }
    }
    return;
  }
  std::string lines;  // a new JSONL file starts with the resumed cells, one per line
  for (const auto& run : previous_.runs) {
    lines += json_text({{"schema_version", previous_.schema_version}, {"kind", "run"}, {"context", previous_.context},
                        {"runs", {run}}},
                       -1) +
             "\n";
  }
  write_file_atomically(jsonl_path_, lines);
  if (lock_) lock_->relock();  // the new file's inode, which the appends write
}

void SweepWriter::add(const nlohmann::json& run) {
  runs_.push_back(run);
  // #42: a failed JSONL write (disk full) stopped the sweep with this cell in no output; now the
  // other outputs still get it, and the caller stops after it and reports the failure.
  if (!jsonl_path_.empty() && error_.empty()) {
    try {
      append_line(jsonl_path_,
                  json_text({{"schema_version", kSchemaVersion}, {"kind", "run"}, {"context", context_()}, {"runs", {run}}},
                            -1));
    } catch (const RuntimeError& e) {
      error_ = e.what();
    }
  }
  keep_error([this] { write_json(); });
}

void SweepWriter::finish() {
  if (!json_written_) keep_error([this] { write_json(); });
}

void SweepWriter::keep_error(const std::function<void()>& write) {
  try {
    write();
  } catch (const RuntimeError& e) {
    if (error_.empty()) error_ = e.what();
  }
}

void SweepWriter::set_extra(const std::string& key, nlohmann::json value) {
  extra_[key] = std::move(value);
  write_json();
}

void SweepWriter::write_json() {
  if (json_path_.empty()) return;
  nlohmann::json doc{{"schema_version", kSchemaVersion}, {"kind", "run"}, {"context", context_()}, {"runs", runs_}};
  doc.update(extra_);
  // #41: the first write keeps an earlier report of that name (unless this sweep resumes it: its
  // cells are in this one), as every other output does.
  const bool continuing = !previous_.path.empty() && output_identity(previous_.path) == output_identity(json_path_);
  write_output(json_path_, json_text(doc), !json_written_ && !continuing);
  json_written_ = true;
}

JournalLock::JournalLock(std::string path) : path_(std::move(path)) { relock(); }

JournalLock::~JournalLock() {
  if (fd_ >= 0) close(fd_);
}

// #42: two sweeps appending to one JSONL both wrote every cell. The file is locked (flock) before
// a resumed file is read and for as long as this sweep writes it; a second writer is refused.
void JournalLock::relock() {
  if (path_.empty() || path_ == "-") return;
  if (fd_ >= 0) close(fd_);
  fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) return;  // the first append says why it cannot write
  struct stat st {};
  if (fstat(fd_, &st) == 0 && !S_ISREG(st.st_mode)) return;  // a FIFO or device: nothing to share
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    throw UsageError(fmt::format("{} '{}' is being written by another sweep right now; wait for it, or give "
                                 "this one another file",
                                 setting_name("jsonl"), path_));
  }
}

}  // namespace diffbench
