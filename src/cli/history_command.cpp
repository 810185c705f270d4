// `diffbench history FILE|DIR ...`: each cell's series over a branch's reports (history_series.h),
// its change points (diffbench/change_points.h), and exit 3 when the newest report starts a slowdown.
#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "cli/gate.h"
#include "cli/history_command.h"
#include "diffbench/app/history_series.h"
#include "diffbench/app/open_session.h"
#include "diffbench/gate/change_points.h"
#include "diffbench/gate/compare.h"
#include "diffbench/core/errors.h"
#include "diffbench/report/json.h"
#include "diffbench/app/outputs.h"

namespace diffbench::cli {
namespace {

std::string step_text(const ChangePoint& c) {
  return fmt::format("{:+.1f}% [{:+.1f}%, {:+.1f}%] (p {:.2g})", 100 * c.change, 100 * c.low, 100 * c.high, c.p_value);
}

void detect(Series& s, const ChangePointSettings& settings) {
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

// #41: a series of run reports (one process per commit) missed a real 10% step, the machine having
// sped up 7% between its halves, and said "0 change point(s)" without a word.
const char* const kRunReportDrift =
    "these are run reports, one process per commit: each point carries the machine's level at that moment "
    "(this VM's moves by 20% and more over an hour), so no change point is no evidence of no change; for a "
    "gate, give history each commit's `ab --json` against one fixed reference build (README)";

bool any_run_series(const std::vector<Series>& all) {
  return std::any_of(all.begin(), all.end(), [](const Series& s) { return !s.ratio; });
}

std::string console(const std::vector<Series>& all, size_t files) {
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

nlohmann::json to_json(const std::vector<Series>& all, const ChangePointSettings& st) {
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

bool from_file(const std::string& source, const std::string& file) {
  return source == file || source.rfind(file + "#", 0) == 0;
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

}  // namespace

void setup_history(CLI::App& app, HistoryOptions& o) {
  app.add_option("inputs", o.inputs,
                 "reports (JSON or JSONL) or `ab --json` reports (new/base ratios) in commit order, or directories "
                 "(files by name)")
      ->required();
  app.add_option("--alpha", o.alpha, "significance of each split, Bonferroni-corrected over its positions")
      ->capture_default_str();
  app.add_option("--threshold", o.threshold, "percent: smaller steps are not reported")->capture_default_str();
  app.add_option("--ignore", o.ignore, "cell-identity groups to match across, as in compare (model, steps, ...)");
  app.add_option("--json", o.json, "write the series and change points as JSON ('-' for stdout)");
  app.add_flag("--quiet,-q", o.quiet, "no console output");
}

int run_history(const HistoryOptions& o) {
  if (!(o.alpha > 0 && o.alpha < 1)) throw UsageError("--alpha must be between 0 and 1");
  if (!(o.threshold >= 0)) throw UsageError("--threshold must be >= 0 (percent)");
  if (!o.json.empty()) check_writable(o.json, "--json");
  const ChangePointSettings settings{o.alpha, o.threshold / 100, 3};
  const std::vector<std::string> files = history_files(o.inputs);
  check_not_an_input(o.json, "--json", files);
  std::vector<Series> all = read_history(files, ignore_groups(o.ignore));
  if (all.empty()) throw UsageError("history: no finished run in the inputs");
  for (auto& s : all) detect(s, settings);
  publish([&](FILE* human) { std::fputs(console(all, files.size()).c_str(), human); },
          {text_output(o.json, [&] { return json_text(to_json(all, settings)); })}, o.quiet);
  if (const std::string missing = missing_from_newest(all, files); !missing.empty()) {
    std::fprintf(stderr,
                 "error: history: the newest report '%s' has no finished figure for %s (its run failed, was "
                 "interrupted or is missing); a newest report without its figures never passes (exit 5)\n",
                 files.back().c_str(), missing.c_str());
    return kExitFailedRun;
  }
  for (const auto& s : all) {
    if (s.newest_step) {
      std::fprintf(stderr, "error: %s: the newest point starts a slowdown of %s (exit 3)\n", s.label.c_str(),
                   step_text(s.newest).c_str());
      return kExitRegression;
    }
  }
  return kExitOk;
}

}  // namespace diffbench::cli
