#pragma once
// The two extra measurements attached to a run: --quality fd (QualityRunner) and --reference
// (ReferenceRunner).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "diffbench/app/settings.h"
#include "diffbench/measure/runner.h"
#include "diffbench/measure/session.h"
#include "diffbench/models/model.h"
#include "diffbench/quality/quality.h"

namespace diffbench {

/// --quality fd: loads the feature model and statistics once, measures FD for each finished run.
class QualityRunner {
 public:
  QualityRunner(const RunSetup& setup, const Session& session);
  void attach(const Session& session, SessionRecord& record, RunResult& result);
  bool enabled() const { return features_ != nullptr; }
  /// The table's legend line for FD ("" when not enabled).
  std::string legend() const;
  /// The reference statistics (enabled() only).
  const ReferenceStats& stats() const { return *stats_; }

 private:
  int64_t samples_;
  QualityMetrics metrics_;
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

}  // namespace diffbench
