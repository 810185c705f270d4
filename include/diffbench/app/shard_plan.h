#pragma once
// How a sweep's cells are split across shards: by estimated work, the same on every shard.
#include <vector>

#include "diffbench/app/model_pool.h"

namespace diffbench {

/// Each cell's estimated work (cell_cost: steps, latent elements, repeats, guidance, FD images).
std::vector<double> cell_costs(const std::vector<RunSpec>& specs, ModelPool& models, const QualitySetup& q);

/// --shard-plan N: print each shard's cells and share of the estimated work, and the longest shard
/// against an even split (what N shards can gain at best). Returns the exit code.
int print_shard_plan(const std::vector<RunSpec>& specs, ModelPool& models, const QualitySetup& q, int count);

}  // namespace diffbench
