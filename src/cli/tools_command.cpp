// `diffbench merge` (join shards) and `diffbench compare` (the CI regression gate).
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/tools_command.h"
#include "diffbench/app/open_session.h"
#include "diffbench/gate/compare.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/files.h"
#include "diffbench/plans/sweep.h"
#include "diffbench/app/outputs.h"
#include "diffbench/report/json.h"

namespace diffbench::cli {

void setup_merge(CLI::App& app, MergeOptions& o) {
  app.add_option("inputs", o.inputs, "result files (JSON or JSON lines) to join")->required()->expected(1, -1);
  app.add_option("-o,--output", o.output, "the merged JSON report ('-' for stdout)")->required();
  app.add_flag("--force", o.force,
               "merge anyway: keep the first of duplicate cells, allow different models, grids, versions, "
               "cut-off lines and missing cells");
  app.add_flag("--allow-missing", o.allow_missing,
               "merge shards that leave cells of their grid out (the report lists them as missing_cells)");
}

namespace {

// Every refusal of merge, each lifted by --force.
void check_mergeable(const std::vector<Report>& reports, bool force) {
  auto refuse = [&](const std::string& why) {
    if (!force) throw UsageError(why + "; pass --force to merge anyway");
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
                      "--resume to complete it",
                      r.path, r.truncated_line));
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
std::vector<std::string> missing_cells(const std::vector<nlohmann::json>& runs) {
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

int run_merge(const MergeOptions& o) {
  if (o.output != "-") check_writable(o.output, "--output");
  check_not_an_input(o.output, "--output", o.inputs);  // #41: `merge s0.jsonl s1.jsonl -o s0.jsonl`
  if (o.output.size() > 6 && o.output.compare(o.output.size() - 6, 6, ".jsonl") == 0)
    throw UsageError(fmt::format("--output '{}': merge writes one JSON report, not JSON lines; name it .json",
                                 o.output));
  std::vector<Report> reports;
  for (const auto& path : o.inputs) reports.push_back(read_report(path));
  check_mergeable(reports, o.force);
  std::set<std::string> keys;
  std::vector<nlohmann::json> runs;
  nlohmann::json sources = nlohmann::json::array();
  size_t duplicates = 0;
  bool grid_order = true;
  for (const auto& r : reports) {
    sources.push_back({{"path", r.path}, {"runs", r.runs.size()}, {"context", r.context}});
    for (const auto& run : r.runs) {
      if (!keys.insert(cell_key(run["config"])).second) {
        if (!o.force) {
          throw UsageError(
              fmt::format("'{}' repeats a cell already merged ({} {} steps); pass --force to keep the first", r.path,
                          run["config"].value("sampler", "?"), run["config"].value("steps", 0)));
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
  const std::vector<std::string> missing = grid_order ? missing_cells(runs) : std::vector<std::string>{};
  if (!missing.empty() && !o.allow_missing && !o.force) {
    throw UsageError(fmt::format(
        "{} cell(s) of the grid are in no input file (cell {}{}): merge every shard's file, or pass --allow-missing",
        missing.size(), fmt::join(missing.begin(), missing.begin() + std::min<size_t>(missing.size(), 5), ", "),
        missing.size() > 5 ? ", ..." : ""));
  }
  nlohmann::json doc = {{"schema_version", reports.front().schema_version},
                        {"kind", "run"},
                        {"context", reports.front().context},
                        {"merged_from", sources},
                        {"runs", runs}};
  if (!missing.empty()) doc["missing_cells"] = missing;
  write_outputs({text_output(o.output, [&doc] { return json_text(doc); })}, true);
  std::fprintf(stderr, "merged %zu run(s) from %zu file(s) into '%s'%s\n", runs.size(), reports.size(),
               o.output.c_str(), duplicates ? fmt::format(" ({} duplicate(s) dropped)", duplicates).c_str() : "");
  return kExitOk;
}

void setup_compare(CLI::App& app, CompareOptions& o) {
  app.add_option("base", o.base, "the baseline result file")->required();
  app.add_option("new", o.updated, "the new result file")->required();
  add_gate_options(app, o.gate, /*paired=*/false);
}

int run_compare(const CompareOptions& o) {
  check_gate_options(o.gate);
  check_not_an_input(o.gate.json, "--json", {o.base, o.updated});
  check_not_an_input(o.gate.markdown, "--markdown", {o.base, o.updated});
  std::vector<Report> reports = {read_report(o.base), read_report(o.updated)};
  for (const Report& r : reports) {  // a cut-off line may be a cell the gate would fail on
    if (r.truncated_tail) {
      throw RuntimeError(fmt::format(
          "'{}' line {} is cut off (a write interrupted by a crash or kill); complete it with the sweep's --resume, "
          "or compare the cells it holds after `diffbench merge --force`",
          r.path, r.truncated_line));
    }
  }
  return run_gate(reports[0], reports[1], o.gate);
}

}  // namespace diffbench::cli
