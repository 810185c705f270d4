#pragma once
// `ab`'s checks: its options before any work, and each block's runs before they count.
#include <string>

#include "cli/ab_command.h"
#include "cli/ab_processes.h"

namespace diffbench::cli {

/// Every refusal of `ab`'s options (UsageError), before anything runs.
void check_ab_options(const AbOptions& o);

/// Why block `block` of `side` cannot count (its runs are not one per cell of the first block, in
/// the same order: a report that lacks a cell would otherwise lend it the previous block's figure),
/// or "" when it can.
std::string block_cells_problem(const AbSide& side, size_t cells, int block);

}  // namespace diffbench::cli
