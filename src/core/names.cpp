#include "diffbench/core/names.h"

#include <algorithm>
#include <cctype>
#include <numeric>

namespace diffbench {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string did_you_mean(const std::string& given, const std::vector<std::string>& valid) {
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const auto& v : valid) {
    size_t d = edit_distance(given, v);
    if (d < best_distance) best_distance = d, best = v;
  }
  return best_distance <= std::max<size_t>(2, given.size() / 3) ? " (did you mean '" + best + "'?)" : "";
}

std::string unknown_name_message(const std::string& what, const std::string& given,
                                 const std::vector<std::string>& valid) {
  std::string message = "unknown " + what + " '" + given + "'; valid: ";
  // "dpm++" means dpmpp_2m: spell '+' as 'p' and '-' as '_', and let a prefix count as a match.
  std::string normal;
  for (char c : given) normal += c == '+' ? 'p' : c == '-' ? '_' : static_cast<char>(std::tolower(c));
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (size_t i = 0; i < valid.size(); ++i) {
    message += (i ? ", " : "") + valid[i];
    size_t d = normal.size() >= 3 && valid[i].rfind(normal, 0) == 0 ? 0 : edit_distance(normal, valid[i]);
    if (d < best_distance) best_distance = d, best = valid[i];
  }
  if (!best.empty() && best_distance <= std::max<size_t>(2, given.size() / 2)) {
    message += " (did you mean '" + best + "'?)";
  }
  return message;
}

}  // namespace diffbench
