// Reading `history`'s series. A run report's point is the median of a run's total_s; an ab
// report's point is 1 + the Hodges-Lehmann change of a cell (its new/base ratio), which the
// interleaved blocks measured free of the machine's slow drifts (docs/compare.md).
#include "diffbench/app/history_series.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "diffbench/core/errors.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/core/files.h"
#include "diffbench/core/statistics.h"
#include "diffbench/plans/sweep.h"
#include "diffbench/core/json_depth.h"

namespace diffbench {
namespace {

struct Collector {
  const std::vector<std::string>& ignore;
  std::map<std::string, size_t> index;
  std::vector<Series> series;

  void add(const std::string& key, const std::string& label, bool ratio, double value, std::string source) {
    auto [it, added] = index.emplace(key, series.size());
    if (added) series.push_back({label, ratio, {}, {}, {}, false, {}});
    series[it->second].values.push_back(value);
    series[it->second].source.push_back(std::move(source));
  }
};

// A report (JSON, or JSONL: read line by line), parsed once.
void add_runs(const std::string& path, const Report& report, Collector& out) {
  if (report.truncated_tail)
    throw RuntimeError(fmt::format("'{}' line {} is cut off; complete or drop it", path, report.truncated_line));
  for (size_t k = 0; k < report.recorded.size(); ++k) {
    const RecordedRun& run = report.recorded[k];
    if (!run.ok() || run.figures("total_s").empty()) continue;
    out.add(cell_key(run.config, out.ignore), run.label, false, median(run.figures("total_s")),
            report.recorded.size() > 1 ? fmt::format("{}#{}", path, k) : path);
  }
}

// A cell without counted blocks (a run failed before any) has no ratio: no point.
void add_ab_cells(const std::string& path, const nlohmann::json& doc, Collector& out) {
  const auto& cells = doc["cells"];
  auto bad = [&](const std::string& what) {
    return RuntimeError(fmt::format("'{}': {} (is it an ab report's JSON?)", path, what));
  };
  if (!cells.is_array()) throw bad("cells must be an array");
  for (size_t k = 0; k < cells.size(); ++k) {
    const auto& c = cells[k];
    if (!c.is_object() || !c.contains("label") || !c["label"].is_string())
      throw bad(fmt::format("cells[{}] has no label", k));
    const auto d = c.value("decision", nlohmann::json::object());
    if (!c.contains("log_ratios") || !c["log_ratios"].is_array() || c["log_ratios"].empty()) continue;
    if (!d.is_object() || !d.contains("change") || !d["change"].is_number() || !(d["change"].get<double>() > -1))
      throw bad(fmt::format("cells[{}].decision.change must be a number above -1", k));
    const std::string label = c["label"].get<std::string>();
    // Reports from before cells carried their config match by label.
    const std::string key =
        c.contains("config") && c["config"].is_object() ? cell_key(c["config"], out.ignore) : "label " + label;
    out.add(key, label, true, 1 + d["change"].get<double>(), cells.size() > 1 ? fmt::format("{}#{}", path, k) : path);
  }
}

}  // namespace

std::vector<std::string> history_files(const std::vector<std::string>& inputs) {
  std::vector<std::string> files;
  for (const auto& in : inputs) {
    if (!std::filesystem::is_directory(in)) {
      files.push_back(in);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& e : std::filesystem::directory_iterator(in)) {
      const std::string ext = e.path().extension().string();
      if (e.is_regular_file() && (ext == ".json" || ext == ".jsonl")) found.push_back(e.path().string());
    }
    if (found.empty()) throw UsageError(fmt::format("history: '{}' holds no .json or .jsonl report", in));
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

std::vector<Series> read_history(const std::vector<std::string>& files, const std::vector<std::string>& ignore) {
  Collector out{ignore, {}, {}};
  std::string first_ab, first_run;
  for (const auto& path : files) {
    const bool jsonl = std::filesystem::path(path).extension() == ".jsonl";
    const std::string text = jsonl ? std::string() : read_file(path, "history");
    if (const std::string deep = json_nesting_problem(text); !deep.empty())
      throw RuntimeError(fmt::format("'{}' is not a diffbench report: {}", path, deep));
    const auto doc = jsonl ? nlohmann::json() : nlohmann::json::parse(text, nullptr, false);
    if (doc.is_object() && doc.contains("ab") && doc.contains("cells")) {  // an `ab --json` report
      if (first_ab.empty()) first_ab = path;
      add_ab_cells(path, doc, out);
    } else {
      if (first_run.empty()) first_run = path;
      add_runs(path, jsonl || doc.is_discarded() ? read_report(path) : report_from_document(doc, path), out);
    }
    if (!first_ab.empty() && !first_run.empty())
      throw UsageError(fmt::format("history: '{}' is an ab report and '{}' a run report; a history is of one kind",
                                   first_ab, first_run));
  }
  return out.series;
}

}  // namespace diffbench
