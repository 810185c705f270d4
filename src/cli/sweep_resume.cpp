// Resuming a sweep from a result file of the same grid, or of a grid this one extends.
#include "cli/sweep_resume.h"

#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diffbench/core/errors.h"
#include "diffbench/report/environment.h"

namespace diffbench::cli {
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
  std::string version = previous.context.value("diffbench_version", "");
  if (version != build_info().version) {
    throw UsageError(fmt::format("--resume '{}' was written by diffbench {}, this is {}; {}", previous.path,
                                 version.empty() ? "?" : version, build_info().version, kResumeHint));
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
      throw UsageError(fmt::format("--resume '{}' holds a cell of {} ({} {} steps) that this grid does not have{}; {}",
                                   previous.path, model ? "another model (UNet sha256 differs)" : "another grid",
                                   config.value("sampler", "?"), config.value("steps", 0),
                                   model ? "" : nearest_difference(config, configs), kResumeHint));
    }
    const std::string old = run.contains("sweep") ? run["sweep"].value("grid_sha256", "") : "";
    restamped = restamped || old != grid;
    run["sweep"] = {{"grid_sha256", grid}, {"cell", found->second}, {"cells", configs.size()}};
  }
  return restamped;
}

}  // namespace diffbench::cli
