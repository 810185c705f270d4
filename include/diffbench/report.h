#pragma once
/// Turning results into text: the JSON document, the console table.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "diffbench/runner.h"

namespace diffbench {

/// Version of the JSON layout (docs/json-schema.md); bump on incompatible change.
constexpr int kSchemaVersion = 1;

/// diffbench's version ("0.1.0"), git sha and dirty flag, compiler and build type.
struct BuildInfo {
  const char* version;
  const char* git_sha;
  bool git_dirty;
  const char* compiler;
  const char* build_type;
};
const BuildInfo& build_info();

/// The machine and library facts that make a number comparable (JSON "context").
nlohmann::json environment_context(const Session& session);

/// One run as JSON (an element of "runs").
nlohmann::json run_to_json(const RunResult& result, const Session& session);

/// The whole document: {"schema_version", "context", "runs"}.
nlohmann::json report_json(const Session& session, const std::vector<RunResult>& results);

/// The human table: sampler, steps, time/step, total, it/s (and speed-up against `baseline`
/// when a run with that sampler name is present).
std::string console_table(const std::vector<RunResult>& results, const std::string& baseline = "");

/// Seconds in a readable unit ("812 us", "7.31 ms", "1.42 s").
std::string format_seconds(double seconds);

}  // namespace diffbench
