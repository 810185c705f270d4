// `diffbench history FILE|DIR ...`: each cell's series over a branch's reports (history_series.h),
// its change points (diffbench/change_points.h), and exit 3 when the newest report starts a slowdown.
#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "cli/common_options.h"
#include "cli/gate.h"
#include "cli/history_command.h"
#include "diffbench/app/history.h"
#include "diffbench/app/history_series.h"
#include "diffbench/app/open_session.h"
#include "diffbench/core/errors.h"
#include "diffbench/report/json.h"
#include "diffbench/app/outputs.h"

namespace diffbench::cli {
void setup_history(CLI::App& app, HistoryOptions& o) {
  app.add_option("inputs", o.inputs,
                 "reports (JSON or JSONL) or `ab --json` reports (new/base ratios) in commit order, or directories "
                 "(files by name)")
      ->required();
  add_alpha_option(app, o.alpha, "significance of each split, Bonferroni-corrected over its positions");
  add_threshold_option(app, o.threshold, "smaller steps are not reported");
  add_ignore_option(app, o.ignore);
  add_json_option(app, o.json, "the series and change points");
  add_quiet_flag(app, o.quiet);
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
  for (auto& s : all) detect_changes(s, settings);
  publish([&](FILE* human) { std::fputs(history_console(all, files.size()).c_str(), human); },
          {text_output(o.json, [&] { return json_text(history_json(all, settings)); })}, o.quiet);
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
