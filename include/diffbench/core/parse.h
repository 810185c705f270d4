#pragma once
// The one reader of whole numbers in settings' text (step counts, thread counts, tile sizes, shape
// dimensions, list items): digits only, no sign, no spaces, no exponent, at most a cap. Every parse
// of such a number goes through here, so "4", "04" and "1e3" mean the same everywhere (issue #43:
// there were four readers with four digit caps).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace diffbench {

/// The largest number parse_whole_number accepts unless told a smaller cap.
constexpr int64_t kMaxWholeNumber = 1'000'000'000;

/// `text` as a number when it is digits only and at most `max`; nullopt otherwise (empty, a sign,
/// a space, anything else, or too large).
std::optional<int64_t> parse_whole_number(std::string_view text, int64_t max = kMaxWholeNumber);

/// As parse_whole_number, but 0 is refused too (nullopt).
std::optional<int64_t> parse_positive(std::string_view text, int64_t max = kMaxWholeNumber);

/// "1,4,32,32" -> {1, 4, 32, 32}: `count` positive whole numbers (a latent shape, a conditioning
/// shape); UsageError naming `what` and `label` ("B,C,H,W") otherwise.
std::vector<int64_t> parse_dims(const std::string& text, const std::string& what, size_t count, const char* label);

/// Shell-like words: whitespace separates, single and double quotes group ("--unet 'a b.pt'" is two
/// words); UsageError naming `what` for an unclosed quote.
std::vector<std::string> split_shell_words(const std::string& text, const std::string& what);

}  // namespace diffbench
