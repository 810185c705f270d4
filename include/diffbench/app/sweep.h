#pragma once
// A sweep's cells through the library: the grid (samplers x steps x batch x shape, plus extra
// cells), every cell's spec resolved before any work, and this shard's cells measured one by one,
// each written to a SweepWriter as it finishes (a failed cell is recorded and the sweep goes on; an
// interrupted one is not written and ends it). The CLI's `sweep` is these calls plus its flags.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "diffbench/app/model_pool.h"
#include "diffbench/app/pipeline.h"
#include "diffbench/app/settings.h"
#include "diffbench/app/sweep_output.h"
#include "diffbench/measure/runner.h"
#include "diffbench/plans/sweep.h"
#include "diffbench/quality/cell_pairs.h"

namespace diffbench {

/// A grid's axes, typed. Empty axes: the main model's default samplers, each sampler's own steps,
/// the setup's batch and shape.
struct SweepGrid {
  std::vector<std::string> samplers;
  std::vector<int> steps;
  std::vector<int64_t> batches;
  std::vector<std::vector<int64_t>> shapes;
  std::vector<std::pair<std::string, int>> cells;  ///< extra SAMPLER:STEPS cells, each at every batch and shape
  std::pair<int, int> shard{0, 1};  ///< run shard `first` of `second` (cells balanced by estimated cost)
  /// With quality measured: every cell's figures compared, paired on the same images, with these cells'.
  std::vector<std::pair<std::string, int>> quality_baselines;
  double quality_margin = 2.0;  ///< an FD difference whose paired interval lies within +-this is "same"
};

/// Every cell's spec, resolved up front on the model its sampler runs on (a bad cell is a
/// UsageError naming it before any work).
std::vector<RunSpec> grid_specs(const SweepGrid& g, ModelPool& models, std::vector<std::string>* warnings);

/// Each cell's run config, in grid order.
std::vector<nlohmann::json> cell_configs(const std::vector<RunSpec>& specs, ModelPool& models);

/// The identity of a grid: the hash of its cells' keys in order, the same for every shard.
std::string grid_identity(const std::vector<RunSpec>& specs, ModelPool& models);

/// One cell measured; a model error or out-of-memory is a failed result, not an exception.
RunResult run_cell(Measurer& measurer, const RunSpec& spec, const ProgressFn& progress);

/// The quality baselines name cells of `specs` and need quality measured; the margin is >= 0.
/// UsageError before any work otherwise.
void check_quality_baselines(const SweepGrid& g, const RunSetup& setup, const std::vector<RunSpec>& specs);

/// Paired differences among the cells this process measured (their features are in memory only):
/// every cell against each baseline, and neighbouring step counts. A baseline cell that failed
/// leaves its pairs out, with a warning; nothing when quality is off or the sweep was interrupted.
std::vector<CellPair> sweep_quality_pairs(const SweepGrid& g, const RunSetup& setup, ModelPool& models,
                                          const std::vector<RunResult>& results);

/// This shard's cells of `specs` (grid `grid`: grid_identity), each measured and added to `writer`
/// as it finishes; cells `previous` holds finished (ok or failed) are skipped and counted in
/// `skipped`. Stops after an interrupted cell (not written), a signal, or a failed write.
std::vector<RunResult> run_cells(const std::vector<RunSpec>& specs, const SweepGrid& g, const std::string& grid,
                                 const Report& previous, ModelPool& models, const RunSetup& setup, SweepWriter& writer,
                                 size_t* skipped);

}  // namespace diffbench
