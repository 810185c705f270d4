// `history`'s analysis and its reports (see history.h).
#include "diffbench/app/history.h"

#include <algorithm>

#include <fmt/format.h>

#include "diffbench/report/json.h"

namespace diffbench {
namespace {

// #41: a series of run reports (one process per commit) missed a real 10% step, the machine having
// sped up 7% between its halves, and said "0 change point(s)" without a word.
const char* const kRunReportDrift =
    "these are run reports, one process per commit: each point carries the machine's level at that moment "
    "(this VM's moves by 20% and more over an hour), so no change point is no evidence of no change; for a "
    "gate, give history each commit's ab report (JSON) against one fixed reference build (README)";

bool any_run_series(const std::vector<Series>& all) {
  return std::any_of(all.begin(), all.end(), [](const Series& s) { return !s.ratio; });
}

bool from_file(const std::string& source, const std::string& file) {
  return source == file || source.rfind(file + "#", 0) == 0;
}

}  // namespace

std::string step_text(const ChangePoint& c) {
  return fmt::format("{:+.1f}% [{:+.1f}%, {:+.1f}%] (p {:.2g})", 100 * c.change, 100 * c.low, 100 * c.high, c.p_value);
}

void detect_changes(Series& s, const ChangePointSettings& settings) {
  s.points = find_change_points(s.values, settings);
  const size_t n = s.values.size();
  const size_t segment = s.points.empty() ? 0 : s.points.back().index;
  // A slowdown the newest report starts: the last change point, upward, with the newest point
  // within the first min_segment points of its level, or the newest point alone well above its level.
  if (!s.points.empty() && s.points.back().change > 0 && n - segment <= settings.min_segment) {
    s.newest_step = true;
    s.newest = s.points.back();
  } else if (newest_point_steps_up(s.values, segment, settings, &s.newest)) {
    s.newest_step = true;
  }
}



std::string history_console(const std::vector<Series>& all, size_t files) {
  std::string out = fmt::format("history: {} file(s), {} cell(s)\n", files, all.size());
  for (const auto& s : all) {
    out += fmt::format("{}: {} points{}, {} change point(s)\n", s.label, s.values.size(),
                       s.ratio ? " (ab ratios new/base)" : "", s.points.size());
    for (const auto& c : s.points) out += fmt::format("  at #{} ({}): {}\n", c.index, s.source[c.index], step_text(c));
    if (s.newest_step)
      out += fmt::format("  REGRESSION: the newest point ({}) starts a slowdown of {}\n", s.source.back(),
                         step_text(s.newest));
  }
  if (any_run_series(all)) out += fmt::format("Warning: {}.\n", kRunReportDrift);
  return out;
}

nlohmann::json history_json(const std::vector<Series>& all, const ChangePointSettings& st) {
  nlohmann::json cells = nlohmann::json::array();
  for (const auto& s : all) {
    nlohmann::json points = nlohmann::json::array();
    for (const auto& c : s.points) {
      points.push_back({{"index", c.index},
                        {"source", s.source[c.index]},
                        {"change", c.change},
                        {"low", c.low},
                        {"high", c.high},
                        {"p_value", c.p_value}});
    }
    cells.push_back({{"label", s.label},
                     {"quantity", s.ratio ? "ratio" : "seconds"},
                     {s.ratio ? "ratios" : "seconds", s.values},
                     {"source", s.source},
                     {"change_points", points},
                     {"newest_regression", s.newest_step}});
  }
  return {{"schema_version", kSchemaVersion},
          {"kind", "history"},
          {"warnings", any_run_series(all) ? nlohmann::json::array({kRunReportDrift}) : nlohmann::json::array()},
          {"history",
           {{"method", "binary segmentation, Student t-test (Apache Otava's t-test method)"},
            {"alpha", st.alpha},
            {"min_change", st.min_change},
            {"min_segment", st.min_segment}}},
          {"cells", cells}};
}


// #42: the cells the report before the newest has and the newest lacks (a failed, interrupted or
// empty newest report, or one of another model, was dropped and the series passed), comma-joined.
std::string missing_from_newest(const std::vector<Series>& all, const std::vector<std::string>& files) {
  if (files.size() < 2) return "";
  std::string missing;
  for (const auto& s : all) {
    const bool before = std::any_of(s.source.begin(), s.source.end(),
                                    [&](const std::string& src) { return from_file(src, files[files.size() - 2]); });
    if (before && !from_file(s.source.back(), files.back())) missing += (missing.empty() ? "" : ", ") + s.label;
  }
  return missing;
}

}  // namespace diffbench
