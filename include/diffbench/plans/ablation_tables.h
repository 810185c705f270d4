#pragma once
/// `ablate`'s ladder for people and programs: the table (console, GitHub Markdown), one CSV row per
/// configuration, and the JSON "ablation" object.
#include <string>

#include <nlohmann/json.hpp>

#include "diffbench/plans/ablation.h"

namespace diffbench {

/// The table (console, GitHub Markdown), one CSV row per configuration, and the JSON "ablation" object.
std::string ablation_console(const Ablation& a);
std::string ablation_markdown(const Ablation& a);
std::string ablation_csv(const Ablation& a);
nlohmann::json ablation_json(const Ablation& a);

}  // namespace diffbench
