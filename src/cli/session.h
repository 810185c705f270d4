#pragma once
// What `run` and `sweep` share: option checks, opening the models once, building specs,
// progress, quality against a reference, and writing outputs.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "diffbench/report.h"
#include "diffbench/quality.h"
#include "diffbench/runner.h"

namespace diffbench::cli {

/// Register the options `run` and `sweep` both take (not --sampler/--steps/--shape).
void add_common_options(CLI::App& app, RunOptions& o);

/// "1,4,32,32" -> {1, 4, 32, 32}; UsageError naming `flag` and `label` ("B,C,H,W").
std::vector<int64_t> parse_dims(const std::string& text, const char* flag, size_t count, const char* label);

/// "dpmpp_2m:200" -> {"dpmpp_2m", 200}.
std::pair<std::string, int> parse_reference(const std::string& text, const char* flag = "--reference");

/// UsageError when two outputs (flag, path) name the same file, or two write to stdout.
void check_distinct_outputs(const std::vector<std::pair<std::string, std::string>>& outputs);

/// Check everything about the outputs and numbers that can be checked before work starts.
void check_common_options(const RunOptions& o);

/// Device, dtype, threads, models (load timed), conditioning.
Session open_session(const RunOptions& o);

/// A spec from the options (sampler, steps and shape are set by the caller), then resolved.
RunSpec make_spec(const Session& session, const RunOptions& o, const SchedulerConfig& config,
                  const std::string& sampler, int steps, const std::vector<int64_t>& shape);

/// A progress line on stderr when it is a terminal, not with --quiet and not in CI; else empty.
ProgressFn progress_for(const RunOptions& o, const std::string& label);
/// Erase the progress line (when one was drawn).
void clear_progress(const RunOptions& o);

/// The options with the UNet manifest's defaults filled in where no flag was given (vae, cond,
/// uncond, features, fd_stats, vae_scaling_factor, guidance_scale); records what it took.
RunOptions with_manifest(const RunOptions& o, Session& session);

/// --quality fd: loads the feature model and statistics once, measures FD for each finished run.
class QualityRunner {
 public:
  QualityRunner(const RunOptions& o, const Session& session);
  void attach(Session& session, RunResult& result);
  bool enabled() const { return features_ != nullptr; }
  /// The table's legend line for FD ("" when not enabled).
  std::string legend() const;

 private:
  int64_t samples_;
  std::unique_ptr<ScriptModel> features_;
  std::optional<ReferenceStats> stats_;
};

/// Runs reference specs once per SAMPLER:STEPS, seed and shape, and attaches quality to results.
class ReferenceRunner {
 public:
  explicit ReferenceRunner(std::optional<std::pair<std::string, int>> reference) : reference_(std::move(reference)) {}
  void attach(Session& session, RunResult& result);
  bool enabled() const { return reference_.has_value(); }
  std::string name() const;

 private:
  std::optional<std::pair<std::string, int>> reference_;
  std::map<std::string, RunResult> runs_;
};

/// The console table and its legend (units, what each column is).
/// The cold forward is each model's own: a run routed to a student names the student's.
void print_table(FILE* out, const std::vector<RunRow>& rows, const std::vector<RunResult>& results, const RunOptions& o,
                 const Session& session, const ReferenceRunner& reference, const QualityRunner& quality);

/// Write `text` to `path` atomically, or to stdout for "-".
void write_output(const std::string& path, const std::string& text);

}  // namespace diffbench::cli
