// Counting how deep JSON text nests before any parser recurses into it.
#include "diffbench/core/json_depth.h"

#include <fmt/format.h>

namespace diffbench {

std::string json_nesting_problem(const std::string& text) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;  // the escaped character cannot end the string
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth)
        return fmt::format("it nests deeper than {} levels (at byte {}), which no diffbench file does", kMaxJsonDepth, i);
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return "";
}

}  // namespace diffbench
