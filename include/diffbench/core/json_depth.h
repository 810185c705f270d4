#pragma once
/// A limit on how deeply a JSON file diffbench reads may nest (#42: a report config, manifest or
/// grid of 100,000 nested objects crashed every reader). Nothing diffbench writes nests deeper
/// than 10 levels; 64 leaves room for hand-written configs and refuses the rest before parsing.
#include <cstddef>
#include <string>

namespace diffbench {

inline constexpr size_t kMaxJsonDepth = 64;

/// "" when `text` nests at most kMaxJsonDepth arrays/objects deep; else a sentence saying where it
/// goes deeper, for the caller's one-line error (strings and their escapes are skipped, so a
/// bracket inside a string does not count).
std::string json_nesting_problem(const std::string& text);

}  // namespace diffbench
