// Resuming a sweep from a result file of the same grid, or of a grid this one extends.
#include "diffbench/app/sweep_resume.h"

#include <cstdio>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/report/environment.h"

namespace diffbench {
namespace {

const char* const kResumeHint =
    "resume with the same grid (or one that adds cells), model and diffbench version, or write to a new file";

// What differs between a resumed run and the nearest cell of this grid (fewest differing fields).
std::string nearest_difference(const nlohmann::json& config, const std::vector<nlohmann::json>& configs) {
  std::vector<std::string> best;
  for (const auto& c : configs) {
    std::vector<std::string> d = config_differences(config, c);
    if (best.empty() || d.size() < best.size()) best = d;
  }
  return best.empty() ? "" : fmt::format(" (the nearest cell here differs in {})", fmt::join(best, ", "));
}

void check_version(const Report& previous) {
  if (previous.runs.empty()) return;  // a file cut inside its first cell (or empty) measured nothing
  const nlohmann::json& context = previous.context.is_object() ? previous.context : nlohmann::json::object();
  std::string version = context.value("diffbench_version", "");
  if (version != build_info().version) {
    throw UsageError(fmt::format("{} '{}' was written by diffbench {}, this is {}; {}", setting_name("resume"), previous.path,
                                 version.empty() ? "?" : version, build_info().version, kResumeHint));
  }
  // #42: the build was not checked. Another commit of the same version may time differently: the
  // cells are kept (resuming is how a long sweep survives a rebuild), but the file is said to mix builds.
  const std::string sha = context.value("git_sha", "");
  if (sha != build_info().git_sha || context.value("git_dirty", false) != build_info().git_dirty) {
    std::fprintf(stderr,
                 "warning: %s '%s': its cells were measured by build %s%s, this is %s%s; the file will mix "
                 "two builds (compare cells measured by one build only)\n",
                 setting_name("resume").c_str(), previous.path.c_str(), sha.empty() ? "?" : sha.c_str(), context.value("git_dirty", false) ? " (dirty)" : "",
                 build_info().git_sha, build_info().git_dirty ? " (dirty)" : "");
  }
}

}  // namespace

bool adopt_resumed_cells(Report& previous, const std::vector<nlohmann::json>& configs, const std::string& grid,
                         const std::string& unet_sha256) {
  check_version(previous);
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < configs.size(); ++i) index.emplace(cell_key(configs[i]), i);
  bool restamped = false;
  for (auto& run : previous.runs) {
    const nlohmann::json& config = run["config"];
    auto found = index.find(cell_key(config));
    if (found == index.end()) {
      const bool model = config.value("unet_sha256", "") != unet_sha256;
      throw UsageError(fmt::format("{} '{}' holds a cell of {} ({} {} steps) that this grid does not have{}; {}",
                                   setting_name("resume"), previous.path, model ? "another model (UNet sha256 differs)" : "another grid",
                                   config.value("sampler", "?"), config.value("steps", 0),
                                   model ? "" : nearest_difference(config, configs), kResumeHint));
    }
    const std::string old = run.contains("sweep") ? run["sweep"].value("grid_sha256", "") : "";
    restamped = restamped || old != grid;
    run["sweep"] = {{"grid_sha256", grid}, {"cell", found->second}, {"cells", configs.size()}};
  }
  return restamped;
}

}  // namespace diffbench
