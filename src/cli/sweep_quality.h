#pragma once
// A sweep's paired quality differences (quality/cell_pairs.h) from its flags.
#include <vector>

#include "cli/options.h"
#include "diffbench/app/model_pool.h"
#include "cli/run_setup.h"
#include "diffbench/measure/runner.h"
#include "diffbench/quality/cell_pairs.h"

namespace diffbench::cli {

/// --quality-baseline names cells of `specs` and needs --quality; --quality-margin >= 0. UsageError
/// before any work otherwise.
void check_quality_baseline(const SweepOptions& s, const RunSetup& setup, const std::vector<RunSpec>& specs);

/// Paired differences among the cells this process measured (their features are in memory only):
/// every cell against each baseline, and neighbouring step counts. A baseline cell that failed
/// leaves its pairs out, with a warning; nothing when quality is off or the sweep was interrupted.
std::vector<CellPair> quality_pairs(const SweepOptions& s, const RunSetup& setup, ModelPool& models,
                                    const std::vector<RunResult>& results);

}  // namespace diffbench::cli
