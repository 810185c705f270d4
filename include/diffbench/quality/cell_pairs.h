#pragma once
/// Which cells of one sweep are compared with paired quality differences, and the differences:
/// every quality cell against a baseline cell the user names, and each step count of a sampler
/// against the next one measured. Two cells pair only when their images come from the same noise:
/// the same seed, shape and number of images (image i of both from the same initial latents).
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "diffbench/measure/runner.h"
#include "diffbench/quality/paired.h"
#include "diffbench/quality/quality.h"

namespace diffbench {

struct CellPair {
  size_t a = 0, b = 0;  ///< indices into the results; the difference is a - b
  std::string kind;  ///< "baseline" (a against the named baseline) or "neighbour" (a's next step count)
  PairedDifference fd;
  std::optional<PairedDifference> kid;  ///< when both cells measured KID
  /// What an unpaired comparison would resolve: sqrt(h_a^2 + h_b^2) of the two FD intervals' half-widths.
  double unpaired_half_width = 0;
};

/// Margins of the "same" verdict: FD units and KID units.
struct PairMargins {
  double fd = 2.0, kid = 0.0;
};

/// The pairs among `results` (cells with quality features), in result order: each cell against
/// each baseline (SAMPLER:STEPS), then neighbours not already listed as a baseline pair. A
/// baseline with no measured cell: UsageError naming it and the cells there are.
std::vector<CellPair> pair_cells(const std::vector<RunResult>& results,
                                 const std::vector<std::pair<std::string, int>>& baselines, const ReferenceStats& stats,
                                 const PairMargins& margins);

}  // namespace diffbench
