#pragma once
// Comma-separated flag values, split and checked once at the CLI's edge.
#include <string>
#include <vector>

namespace diffbench::cli {

/// "a,b,c" -> {a, b, c}; an empty item ("1,,2") or a repeated one ("2,2") is a UsageError naming `flag`.
std::vector<std::string> split_flag_list(const std::string& text, const char* flag);
/// "1,5,20" -> {1, 5, 20}; anything but positive integers is a UsageError naming `flag`.
std::vector<int> parse_positive_ints(const std::string& text, const char* flag);

}  // namespace diffbench::cli
