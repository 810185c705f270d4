#pragma once
/// A run read back from a report file, typed once: what `compare`, `ab` and `history` decide on.
/// The fields they read are checked where the file is read, so a report with a field of the wrong
/// kind is one error naming the file, the run and the field, not a JSON library's exception.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "diffbench/measure/runner.h"

namespace diffbench {

struct RecordedRun {
  nlohmann::json config;  ///< the cell's identity as written (cell_key and config_differences read it)
  std::string label;  ///< "ddim 50 steps 1x4x32x32 seed 0"
  RunStatus status = RunStatus::ok;
  std::string status_text = "ok";  ///< as written (a status this build does not know is not ok)
  std::string error;  ///< why it failed ("" when it did not)
  std::string process_id;  ///< "" in files written before runs carried one
  std::optional<int> pair;  ///< `ab`'s pair index (process.pair)
  std::optional<std::string> contention;  ///< why it was measured under contention, when it was
  std::map<std::string, std::vector<double>> samples;  ///< metric ("total_s", ...) -> its per-repeat figures

  bool ok() const { return status == RunStatus::ok; }  ///< an unknown status_text reads as failed
  /// The figures of `metric` (empty when the run has none).
  const std::vector<double>& figures(const std::string& metric) const;
};

/// `run` (an element of a report's "runs") typed; RuntimeError "WHERE: FIELD must be ..." when a
/// field the readers use holds the wrong kind of value. Missing fields take their old-file meaning
/// (status ok, no process id, no figures).
RecordedRun read_recorded_run(const nlohmann::json& run, const std::string& where);

/// "ddim 50 steps 1x4x32x32 seed 0": a run's cell as the tables name it (from its "config").
std::string run_label(const nlohmann::json& run);

}  // namespace diffbench
