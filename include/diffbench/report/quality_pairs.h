#pragma once
/// A sweep's paired quality differences (quality/cell_pairs.h) as a console or Markdown table and
/// as the JSON report's "quality_pairs" array (docs/json-schema.md).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "diffbench/measure/runner.h"
#include "diffbench/quality/cell_pairs.h"

namespace diffbench {

nlohmann::json quality_pairs_json(const std::vector<CellPair>& pairs, const std::vector<RunResult>& results);

/// The table, with a legend stating the verdict rule; "" when there are no pairs.
std::string quality_pairs_table(const std::vector<CellPair>& pairs, const std::vector<RunResult>& results,
                                bool markdown);

}  // namespace diffbench
