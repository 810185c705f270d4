#pragma once
/// Results as the JSON report (docs/json-schema.md): each run's config (its identity), figures and
/// statistics, and the whole document.
#include <vector>

#include <nlohmann/json.hpp>

#include "diffbench/measure/runner.h"
#include "diffbench/measure/session.h"
#include "diffbench/core/frechet.h"

namespace diffbench {

/// Version of the JSON layout (docs/json-schema.md); bump on incompatible change.
constexpr int kSchemaVersion = 2;

/// A JSON document as diffbench writes it: indented with a final newline (indent < 0: one line, no
/// newline). Bytes that are not UTF-8 (a file name in another encoding) become U+FFFD instead of
/// failing the write (#42: a non-UTF-8 path made every JSON output fail, nothing written).
inline std::string json_text(const nlohmann::json& doc, int indent = 2) {
  return doc.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace) + (indent >= 0 ? "\n" : "");
}

/// A run's "config" object: what was measured, on which model (its identity for --resume,
/// merge and compare comes from this, see cell_key).
nlohmann::json run_config_json(const RunSpec& spec, const Session& session);
/// The config's "optimisations" object: --freeze, --channels-last, --vae-tiling, --cuda-graphs,
/// --interop-threads as the session applied them.
nlohmann::json optimisations_json(const Session& session);

/// A run's --quality fd result as its JSON "fd" object (with "kid" and "fd_infinity" when measured).
nlohmann::json fd_json(const FdQuality& q);
nlohmann::json kid_json(const KidResult& k);
nlohmann::json fd_infinity_json(const FrechetInfinity& f);

/// One run as JSON (an element of "runs").
nlohmann::json run_to_json(const RunResult& result, const Session& session);

/// The whole document: {"schema_version", "context", "runs"}. results[i] ran on *sessions[i] (runs
/// may be made on several models); the context (machine, process) is the first session's, with its
/// `record`.
nlohmann::json report_json(const std::vector<const Session*>& sessions, const SessionRecord& record,
                           const std::vector<RunResult>& results);

}  // namespace diffbench
