#pragma once
// `history`'s analysis over the series of history_series.h: each cell's change points (binary
// segmentation, gate/change_points.h), whether the newest report starts a slowdown, the cells the
// newest report lacks, and the console and JSON reports. Exit codes are the front end's.
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "diffbench/app/history_series.h"
#include "diffbench/gate/change_points.h"

namespace diffbench {

/// A change as "+12.3% [+8.0%, +16.5%] (p 0.001)".
std::string step_text(const ChangePoint& c);

/// `s`'s change points, and whether its newest point starts a slowdown (the last change point,
/// upward, within its first min_segment points, or the newest point alone well above its level).
void detect_changes(Series& s, const ChangePointSettings& settings);

/// The console report of `files` reports' series (with a warning when run reports, not ab ratios, make them).
std::string history_console(const std::vector<Series>& all, size_t files);

/// The JSON report (kind "history").
nlohmann::json history_json(const std::vector<Series>& all, const ChangePointSettings& settings);

/// The cells the report before the newest has and the newest lacks, comma-joined ("" when none):
/// a newest report without its figures (failed, interrupted, empty, another model) never passes.
std::string missing_from_newest(const std::vector<Series>& all, const std::vector<std::string>& files);

}  // namespace diffbench
