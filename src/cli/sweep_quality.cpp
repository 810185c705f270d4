// A sweep's paired quality differences: --quality-baseline and --quality-margin checked before
// any work, and the pairs made from the cells this process measured.
#include "cli/sweep_quality.h"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diffbench/app/pipeline.h"
#include "diffbench/core/errors.h"
#include "diffbench/measure/stop.h"

namespace diffbench::cli {

namespace {

std::vector<std::pair<std::string, int>> quality_baselines(const SweepOptions& s) {
  std::vector<std::pair<std::string, int>> bases;
  for (const auto& text : s.quality_baseline) bases.push_back(parse_reference(text, "--quality-baseline"));
  return bases;
}

}  // namespace

// --quality-baseline names cells of this grid, and needs --quality: checked before any work.
void check_quality_baseline(const SweepOptions& s, const RunSetup& setup, const std::vector<RunSpec>& specs) {
  if (!(s.quality_margin >= 0))
    throw UsageError(fmt::format("--quality-margin must be >= 0, got {}", s.quality_margin));
  const auto bases = quality_baselines(s);
  if (!bases.empty() && !setup.quality.fd)
    throw UsageError("--quality-baseline compares quality figures: add --quality fd");
  std::vector<std::string> names;
  for (const RunSpec& spec : specs) names.push_back(fmt::format("{}:{}", spec.sampler, spec.steps));
  for (const auto& [sampler, steps] : bases) {
    const std::string name = fmt::format("{}:{}", sampler, steps);
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      throw UsageError(fmt::format("--quality-baseline {} is not a cell of this sweep ({}); add it with --cell {}",
                                   name, fmt::join(unique(names), ", "), name));
    }
  }
}

// Paired differences among the cells this process measured (their features are in memory only).
// A baseline cell that failed leaves its pairs out, with a warning: the other cells stay reported.
std::vector<CellPair> quality_pairs(const SweepOptions& s, const RunSetup& setup, ModelPool& models,
                                    const std::vector<RunResult>& results) {
  if (!setup.quality.fd || stop_requested()) return {};
  const QualityRunner& quality = models.main_measurer().quality();
  if (!quality.enabled()) return {};
  try {
    return pair_cells(results, quality_baselines(s), quality.stats(), {s.quality_margin, 0.0});
  } catch (const UsageError& e) {
    std::fprintf(stderr, "warning: %s; only neighbouring step counts are compared\n", e.what());
    return pair_cells(results, {}, quality.stats(), {s.quality_margin, 0.0});
  }
}

}  // namespace diffbench::cli
