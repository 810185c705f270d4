#pragma once
// Which cells of a --resume file a sweep may keep: those of the same model and diffbench version
// whose cell this grid also has. A grid may grow between runs (another step count, sampler or
// shape): the kept cells are stamped with the new grid, so its shards still merge.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "diffbench/plans/sweep.h"

namespace diffbench {

/// Checks `previous` against this grid (`configs`: each cell's run config, in grid order;
/// `grid`: the grid's identity) and stamps each kept run with its cell in this grid. Throws a
/// UsageError naming the first run that cannot be kept and what differs. Returns true when a run
/// came from another (smaller) grid, so a resumed JSONL must be rewritten, not appended to.
bool adopt_resumed_cells(Report& previous, const std::vector<nlohmann::json>& configs, const std::string& grid,
                         const std::string& unet_sha256);

}  // namespace diffbench
