#pragma once
// Where a sweep's cells go: --json rewritten after every cell, --jsonl appended, and a --resume
// file's finished cells carried into both, so a sweep never writes a file that lacks a cell it has.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "diffbench/plans/sweep.h"

namespace diffbench {

/// An exclusive lock (flock) on a sweep's JSONL, held from before a resumed file is read until the
/// sweep ends; UsageError when another sweep holds it.
class JournalLock {
 public:
  explicit JournalLock(std::string path);
  ~JournalLock();
  JournalLock(const JournalLock&) = delete;
  JournalLock& operator=(const JournalLock&) = delete;
  /// Lock the file now at the path (after it was replaced by a rename).
  void relock();

 private:
  std::string path_;
  int fd_ = -1;
};

class SweepWriter {
 public:
  /// `previous`: the --resume file's report (no runs when not resuming). `rewrite`: its cells were
  /// stamped with a grid that grew, so a resumed JSONL is rewritten with them rather than appended to.
  SweepWriter(std::string json_path, std::string jsonl_path, const Report& previous, bool quiet, bool rewrite = false,
              JournalLock* lock = nullptr);
  /// Prepare the files: drop a resumed JSONL's cut-off last line, copy the resumed cells into a new output.
  /// `context` is asked again at every write (the process's figures grow as cells run).
  void start(std::function<nlohmann::json()> context);
  /// Write one finished cell.
  void add(const nlohmann::json& run);
  /// Write --json even when no cell ran (every cell was already in the --resume file).
  void finish();
  /// The first write that failed ("" : none): the caller stops measuring and reports it after
  /// every other output (table, CSV) has the cells.
  const std::string& error() const { return error_; }

  /// A top-level key of --json beside "runs" (a sweep's "quality_pairs"), written at once.
  void set_extra(const std::string& key, nlohmann::json value);

 private:
  void write_json();
  void keep_error(const std::function<void()>& write);
  JournalLock* lock_;
  std::string error_;
  std::string json_path_, jsonl_path_;
  const Report& previous_;
  bool quiet_, rewrite_, json_written_ = false;
  std::function<nlohmann::json()> context_;
  std::vector<nlohmann::json> runs_;
  nlohmann::json extra_ = nlohmann::json::object();
};

}  // namespace diffbench
