// Joining reports (see merge.h).
#include "diffbench/plans/merge.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/setting_names.h"

namespace diffbench {
namespace {

// Every refusal of merge, each lifted by --force.
void check_mergeable_reports(const std::vector<Report>& reports, bool force) {
  auto refuse = [&](const std::string& why) {
    if (!force) throw UsageError(why + "; pass " + setting_name("force") + " to merge anyway");
  };
  std::set<std::string> models, all_models, grids, versions;
  for (const auto& r : reports) {
    if (r.schema_version != reports.front().schema_version) {
      throw UsageError(fmt::format("'{}' has schema_version {} but '{}' has {}; merge files of one version", r.path,
                                   r.schema_version, reports.front().path, reports.front().schema_version));
    }
    if (r.truncated_tail) {
      refuse(
          fmt::format("'{}' line {} is cut off (a write interrupted by a crash or kill); rerun that shard with "
                      "{} to complete it",
                      r.path, r.truncated_line, setting_name("resume")));
    }
    versions.insert(r.context.value("diffbench_version", "?"));
    for (const auto& run : r.runs) {
      // A sweep's grid identity holds every cell's UNet (a grid may run students beside their
      // teacher); runs outside a sweep must all be of one UNet.
      all_models.insert(run["config"].value("unet_sha256", ""));
      if (run.contains("sweep"))
        grids.insert(run["sweep"].value("grid_sha256", ""));
      else
        models.insert(run["config"].value("unet_sha256", ""));
    }
  }
  if (models.size() > 1)
    refuse(fmt::format("the inputs measured {} different UNet files (sha256 differ)", models.size()));
  if (grids.size() > 1) {
    refuse(fmt::format("the inputs are shards of {} different grids{}", grids.size(),
                       all_models.size() > 1 ? " (with different UNet files: sha256 differ)" : ""));
  }
  if (versions.size() > 1)
    refuse(fmt::format("the inputs were written by {} different diffbench versions", versions.size()));
}

// The grid cells no input holds: every sweep run records its cell index and the grid's size.
std::vector<std::string> missing_grid_cells(const std::vector<nlohmann::json>& runs) {
  std::map<std::string, std::pair<int, std::set<int>>> grids;  // grid sha256 -> (cells, present)
  for (const auto& run : runs) {
    auto& [cells, present] = grids[run["sweep"].value("grid_sha256", "")];
    cells = std::max(cells, run["sweep"].value("cells", 0));
    present.insert(run["sweep"].value("cell", -1));
  }
  std::vector<std::string> missing;
  for (const auto& [grid, entry] : grids) {
    for (int cell = 0; cell < entry.first; ++cell) {
      if (!entry.second.count(cell)) missing.push_back(fmt::format("{} of {}", cell, entry.first));
    }
  }
  return missing;
}

}  // namespace

Merged merge_reports(const std::vector<Report>& reports, bool force, bool allow_missing) {
  check_mergeable_reports(reports, force);
  std::set<std::string> keys;
  std::vector<nlohmann::json> runs;
  nlohmann::json sources = nlohmann::json::array();
  size_t duplicates = 0;
  bool grid_order = true;
  for (const auto& r : reports) {
    sources.push_back({{"path", r.path}, {"runs", r.runs.size()}, {"context", r.context}});
    for (const auto& run : r.runs) {
      if (!keys.insert(cell_key(run["config"])).second) {
        if (!force) {
          throw UsageError(
              fmt::format("'{}' repeats a cell already merged ({} {} steps); pass {} to keep the first", r.path,
                          run["config"].value("sampler", "?"), run["config"].value("steps", 0), setting_name("force")));
        }
        ++duplicates;
        continue;
      }
      grid_order = grid_order && run.contains("sweep");
      runs.push_back(run);
    }
  }
  if (grid_order) {  // shards interleave the grid: put the cells back in grid order
    std::stable_sort(runs.begin(), runs.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
      return a["sweep"].value("cell", 0) < b["sweep"].value("cell", 0);
    });
  }
  const std::vector<std::string> missing = grid_order ? missing_grid_cells(runs) : std::vector<std::string>{};
  if (!missing.empty() && !allow_missing && !force) {
    throw UsageError(fmt::format(
        "{} cell(s) of the grid are in no input file (cell {}{}): merge every shard's file, or pass {}",
        missing.size(), fmt::join(missing.begin(), missing.begin() + std::min<size_t>(missing.size(), 5), ", "),
        missing.size() > 5 ? ", ..." : "", setting_name("allow_missing")));
  }
  nlohmann::json doc = {{"schema_version", reports.front().schema_version},
                        {"kind", "run"},
                        {"context", reports.front().context},
                        {"merged_from", sources},
                        {"runs", runs}};
  if (!missing.empty()) doc["missing_cells"] = missing;
  return {doc, duplicates};
}

}  // namespace diffbench
