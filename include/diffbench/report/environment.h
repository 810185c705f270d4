#pragma once
/// What makes a number comparable: the build (version, git state, compiler) and the machine, library
/// and process facts of the JSON "context".
#include <nlohmann/json.hpp>

#include "diffbench/measure/session.h"

namespace diffbench {

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

}  // namespace diffbench
