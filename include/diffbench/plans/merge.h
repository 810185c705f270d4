#pragma once
// Joining reports into one (`merge`: a sweep's shards): every input of one schema version, one
// grid or one UNet, one diffbench version, no cut-off line, no cell twice and, for a sweep's
// shards, no cell of the grid missing; each refusal a UsageError that `force` lifts (a missing
// cell also `allow_missing`, which lists it). A sweep's cells come back in grid order.
#include <cstddef>
#include <vector>

#include <nlohmann/json.hpp>

#include "diffbench/plans/sweep.h"

namespace diffbench {

/// The merged report (kind "run", with merged_from and any missing_cells) and the duplicates dropped.
struct Merged {
  nlohmann::json doc;
  size_t duplicates = 0;
};

/// `reports` joined, in order; see above for what is refused.
Merged merge_reports(const std::vector<Report>& reports, bool force, bool allow_missing);

}  // namespace diffbench
