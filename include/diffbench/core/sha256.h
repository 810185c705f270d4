#pragma once
/// SHA-256 (FIPS 180-4): the identity of model files, conditioning and latents in reports.
#include <string>

namespace diffbench {

/// Hex SHA-256 of a file's bytes.
std::string sha256_file(const std::string& path);
/// Hex SHA-256 of a byte string.
std::string sha256_hex(const std::string& bytes);

}  // namespace diffbench
