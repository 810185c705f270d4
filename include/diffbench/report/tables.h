#pragma once
/// Results as tables for people: one row per run (from the statistics the library computed), shown
/// on a console, as GitHub Markdown or as CSV.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "diffbench/core/statistics.h"
#include "diffbench/measure/runner.h"

namespace diffbench {

/// One run reduced to the numbers every human-facing format shows.
struct RunRow {
  std::string sampler, status;
  std::string model_name;  ///< the UNet's file name (RunSpec::model); a Model column when rows differ
  int steps = 0;
  int nfe = 0;  ///< model evaluations per image run (model_evaluations); a column where it differs from steps
  std::vector<int64_t> shape;
  uint64_t seed = 0;
  Summary total, step, model,
      sampler_time;  ///< total per repeat; mean step per repeat; model and sampler sums per repeat
  double steps_per_s = 0;  ///< steps / median time in steps (VAE decode excluded)
  double images_per_s = 0;  ///< from the median total
  double outside_model_fraction = 0;  ///< median over repeats
  double speedup = 0;  ///< baseline total / this total; 0 without a baseline
  std::optional<Quality> quality;
  std::optional<FdQuality> fd;
};

/// Rows for `results`; speed-up against the run whose sampler is `baseline` (if present).
std::vector<RunRow> summarize_runs(const std::vector<RunResult>& results, const std::string& baseline = "");

/// The unit of times in tables: chosen per value, or one fixed unit.
enum class TimeUnit { automatic, s, ms, us };
/// "auto", "s", "ms" or "us" -> the unit; UsageError naming the valid ones otherwise.
TimeUnit parse_time_unit(const std::string& text);

/// The human table for a terminal: aligned, units chosen per value, legend included.
/// A Shape column appears when the rows' shapes differ (a sweep over batch or resolution), a Model
/// column when their models do (the lecture's table: students for lcm and turbo).
std::string console_table(const std::vector<RunRow>& rows, TimeUnit unit = TimeUnit::automatic);
/// The same table as GitHub Markdown (for pull requests and READMEs).
std::string markdown_table(const std::vector<RunRow>& rows, TimeUnit unit = TimeUnit::automatic);
/// One CSV row per run, seconds in plain numbers, RFC 4180 quoting.
std::string csv_table(const std::vector<RunRow>& rows);

/// Seconds in a readable unit ("812 us", "7.31 ms", "1.42 s"), or in a fixed `unit`.
std::string format_seconds(double seconds, TimeUnit unit = TimeUnit::automatic);

}  // namespace diffbench
