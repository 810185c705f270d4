#pragma once
/// `compare`'s verdicts for people and programs: a console table, GitHub Markdown and JSON.
#include <string>

#include <nlohmann/json.hpp>

#include "diffbench/gate/compare.h"

namespace diffbench {

/// The comparison as a console table, GitHub Markdown, and JSON (compare's three outputs).
std::string compare_console(const Comparison& c, const CompareSettings& settings);
std::string compare_markdown(const Comparison& c, const CompareSettings& settings);
nlohmann::json compare_json(const Comparison& c, const CompareSettings& settings);

}  // namespace diffbench
