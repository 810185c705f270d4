#pragma once
/// Files diffbench writes and reads: atomic writes, JSON-lines appends, output checks.
#include <cstddef>
#include <string>
#include <vector>

namespace diffbench {

/// Write `data` to `path` through a temporary file in the same directory and a rename,
/// so a failure (full disk, kill) never leaves a truncated file in place. RuntimeError on failure.
void write_file_atomically(const std::string& path, const std::string& data);

/// Fail early (UsageError) when `path` cannot be created: missing or unwritable directory.
/// "-" (stdout) is always accepted.
void check_writable(const std::string& path, const std::string& flag);

/// Append one line (a newline is added) and fsync, so a JSON-lines file is valid after every line.
void append_line(const std::string& path, const std::string& line);

/// Cut a file to `length` bytes (drops a JSON-lines file's cut-off last line before appending).
void truncate_file(const std::string& path, size_t length);

/// A canonical name for an output path (links and ".." resolved; "-" and /dev/stdout are "-"),
/// so that two flags naming the same file can be refused.
std::string output_identity(const std::string& path);

/// Refuse (UsageError) an output that is one of the command's inputs: writing it would destroy it.
void check_not_an_input(const std::string& output, const std::string& flag, const std::vector<std::string>& inputs);

/// write_file_atomically, keeping an earlier report: when `path` holds diffbench results (its first
/// 4 KiB name a `schema_version` or a `kind`), it is first linked (else copied) to the first free
/// `path.~N~` (GNU's numbered backups), whose name is returned; "" when there was nothing to keep.
/// A failed write removes that copy again and leaves `path` as it was. Results already measured are
/// never lost to a second run that names the same file.
std::string write_keeping_earlier_results(const std::string& path, const std::string& data);

/// Fail early (UsageError) unless `dir` is a writable directory or can be created in one.
void check_writable_dir(const std::string& dir, const std::string& flag);

/// Read a whole file; RuntimeError naming it when it cannot be read.
std::string read_file(const std::string& path, const std::string& what);

}  // namespace diffbench
