#pragma once
/// Turning results into text: the JSON document, the console table.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "diffbench/runner.h"
#include "diffbench/statistics.h"

namespace diffbench {

/// Version of the JSON layout (docs/json-schema.md); bump on incompatible change.
constexpr int kSchemaVersion = 2;

/// diffbench's version ("0.1.0"), git sha and dirty flag, compiler and build type.
struct BuildInfo {
  const char* version;
  const char* git_sha;
  bool git_dirty;
  const char* compiler;
  const char* build_type;
};
const BuildInfo& build_info();

/// The machine and library facts that make a number comparable (JSON "context"), with what opening
/// `session` measured (`record`: load times, cold forward, process).
nlohmann::json environment_context(const Session& session, const SessionRecord& record);

/// A run's "config" object: what was measured, on which model (its identity for --resume,
/// merge and compare comes from this, see cell_key).
nlohmann::json run_config_json(const RunSpec& spec, const Session& session);
/// The config's "optimisations" object: --freeze, --channels-last, --vae-tiling, --cuda-graphs,
/// --interop-threads as the session applied them.
nlohmann::json optimisations_json(const Session& session);

/// A run's --quality fd result as its JSON "fd" object.
nlohmann::json fd_json(const FdQuality& q);

/// One run as JSON (an element of "runs").
nlohmann::json run_to_json(const RunResult& result, const Session& session);

/// The whole document: {"schema_version", "context", "runs"}. results[i] ran on *sessions[i] (runs
/// may be made on several models); the context (machine, process) is the first session's, with its
/// `record`.
nlohmann::json report_json(const std::vector<const Session*>& sessions, const SessionRecord& record,
                           const std::vector<RunResult>& results);

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
