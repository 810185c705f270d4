// Whole numbers in settings' text (see parse.h).
#include "diffbench/core/parse.h"

#include <cctype>
#include <sstream>

#include <fmt/format.h>

#include "diffbench/core/errors.h"

namespace diffbench {

std::optional<int64_t> parse_whole_number(std::string_view text, int64_t max) {
  if (text.empty()) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
    if (value > max) return std::nullopt;  // checked per digit: never overflows
  }
  return value;
}

std::optional<int64_t> parse_positive(std::string_view text, int64_t max) {
  std::optional<int64_t> value = parse_whole_number(text, max);
  if (value && *value < 1) return std::nullopt;
  return value;
}

std::vector<std::string> split_shell_words(const std::string& text, const std::string& what) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (char c : text) {
    if (quote) {
      if (c == quote)
        quote = 0;
      else
        word += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote) throw UsageError(fmt::format("{} '{}' has an unclosed quote", what, text));
  if (in_word) words.push_back(word);
  return words;
}

std::vector<int64_t> parse_dims(const std::string& text, const std::string& what, size_t count, const char* label) {
  std::vector<int64_t> dims;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const std::optional<int64_t> dim = parse_positive(item);
    if (!dim) break;
    dims.push_back(*dim);
  }
  if (dims.size() != count || !in.eof()) {
    throw UsageError(
        fmt::format("{} '{}': expected {} comma-separated positive integers ({})", what, text, count, label));
  }
  return dims;
}

}  // namespace diffbench
