#pragma once
/// Matching a user's name against the valid ones.
#include <string>
#include <vector>

namespace diffbench {

/// Levenshtein edit distance.
size_t edit_distance(const std::string& a, const std::string& b);

/// " (did you mean 'b'?)" for the valid name nearest `given`, or "" when none is near (a typo's
/// distance: at most 2, or a third of its length).
std::string did_you_mean(const std::string& given, const std::vector<std::string>& valid);

/// "unknown <what> 'x'; valid: a, b, c (did you mean 'b'?)" for an error message.
std::string unknown_name_message(const std::string& what, const std::string& given,
                                 const std::vector<std::string>& valid);

}  // namespace diffbench
