#pragma once
// What `run`, `sweep`, `ablate` and `ab` share once their flags are parsed (cli/run_setup.h):
// opening the models, progress, quality against a reference, and writing outputs.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/outputs.h"
#include "cli/run_setup.h"
#include "diffbench/report.h"
#include "diffbench/quality.h"
#include "diffbench/runner.h"

namespace diffbench::cli {

/// Register the options `run` and `sweep` both take (not --sampler/--steps/--shape).
void add_common_options(CLI::App& app, RunOptions& o);

/// The files and values a session takes from the flags, else from the UNet's manifest.
struct ModelFiles {
  std::string vae, cond, uncond, features, fd_stats;
  double vae_scaling_factor = 0.18215;
};
/// The one place "flag, else manifest" is decided for a session's files; what the manifest supplied
/// is appended to `taken` ("vae=...", and guidance_scale when no flag gave one).
ModelFiles model_files(const RunSetup& setup, const ModelManifest& manifest, std::vector<std::string>* taken = nullptr);

/// Device, dtype, threads, the UNet at `unet_path` with its manifest, the VAE, conditioning; what
/// opening them measured (load times, the manifest's contributions, the process) goes to `record`.
Session open_session(const RunSetup& setup, const std::string& unet_path, SessionRecord& record);

/// A progress line on stderr when it is a terminal, not with --quiet and not in CI; else empty.
ProgressFn progress_for(const OutputSetup& out, const std::string& label);
/// Erase the progress line (when one was drawn).
void clear_progress(const OutputSetup& out);

/// --quality fd: loads the feature model and statistics once, measures FD for each finished run.
class QualityRunner {
 public:
  QualityRunner(const RunSetup& setup, const Session& session);
  void attach(const Session& session, SessionRecord& record, RunResult& result);
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
  void attach(const Session& session, SessionRecord& record, RunResult& result);
  bool enabled() const { return reference_.has_value(); }
  std::string name() const;

 private:
  std::optional<std::pair<std::string, int>> reference_;
  std::map<std::string, RunResult> runs_;
};

/// The console table and its legend (units, what each column is).
/// The cold forward is each model's own: a run routed to a student names the student's.
void print_table(FILE* out, const std::vector<RunRow>& rows, const std::vector<RunResult>& results,
                 const RunSetup& setup, const Session& session, const SessionRecord& record,
                 const ReferenceRunner& reference, const QualityRunner& quality);

}  // namespace diffbench::cli
