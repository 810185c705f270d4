#pragma once
/// Files diffbench writes and reads: atomic writes, .npy arrays, PNG images.
#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

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

/// Fail early (UsageError) unless `dir` is a writable directory or can be created in one.
void check_writable_dir(const std::string& dir, const std::string& flag);

/// Read a whole file; RuntimeError naming it when it cannot be read.
std::string read_file(const std::string& path, const std::string& what);

/// A float32 tensor as NumPy .npy (version 1.0, little-endian '<f4', C order).
std::string to_npy(const at::Tensor& tensor);

/// Parse .npy bytes ('<f4' or '<f8', C order, version 1.x/2.x) into a float32 CPU tensor.
/// UsageError naming `origin` on anything malformed.
at::Tensor from_npy(const std::string& bytes, const std::string& origin);

/// Encode images [B,3,H,W] in [-1, 1] as one PNG per image into `dir` (created if missing), all of
/// them in dir/grid.png, and the unrounded images as dir/images.npy (float32, C order); returns the
/// written paths (dir/image_000.png, ..., grid.png, images.npy).
std::vector<std::string> write_pngs(const at::Tensor& images, const std::string& dir);

/// Hex SHA-256 of a file's bytes.
std::string sha256_file(const std::string& path);
/// Hex SHA-256 of a byte string.
std::string sha256_hex(const std::string& bytes);

}  // namespace diffbench
