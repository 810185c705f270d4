// Comma-separated flag values (sweep's --sampler a,b and --steps 10,20) split and checked.
#include "cli/list_flags.h"

#include <set>
#include <sstream>

#include <fmt/format.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/parse.h"

namespace diffbench::cli {

// "a,b,c" -> {a, b, c}; an empty item ("1,,2") or a repeated one ("2,2": the same cell twice) is an error.
std::vector<std::string> split_flag_list(const std::string& text, const char* flag) {
  std::vector<std::string> items;
  if (text.empty()) return items;
  std::stringstream in(text + ",");
  std::string item;
  std::set<std::string> seen;
  while (std::getline(in, item, ',')) {
    if (item.empty())
      throw UsageError(fmt::format("{} '{}' has an empty item; separate values with single commas", flag, text));
    if (!seen.insert(item).second) {
      throw UsageError(
          fmt::format("{} '{}' repeats '{}': each cell would run twice; give each value once", flag, text, item));
    }
    items.push_back(item);
  }
  return items;
}

// "1,5,20" -> {1, 5, 20}; each a positive integer, as split_flag_list splits them.
std::vector<int> parse_positive_ints(const std::string& text, const char* flag) {
  std::vector<int> values;
  for (const auto& item : split_flag_list(text, flag)) {
    const std::optional<int64_t> value = parse_positive(item, 9'999'999);
    if (!value) throw UsageError(fmt::format("{} '{}': expected positive integers separated by commas", flag, text));
    values.push_back(static_cast<int>(*value));
  }
  return values;
}

}  // namespace diffbench::cli
