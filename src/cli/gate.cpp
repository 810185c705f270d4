// The compare gate's options, outputs and exit code, shared by `compare` and `ab`.
#include <cstdio>
#include <sstream>

#include <fmt/format.h>

#include "cli/common_options.h"
#include "cli/gate.h"
#include "diffbench/app/open_session.h"
#include "diffbench/gate/compare.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/files.h"
#include "diffbench/core/names.h"
#include "diffbench/gate/compare_tables.h"
#include "diffbench/app/outputs.h"
#include "diffbench/report/json.h"

namespace diffbench::cli {

std::vector<std::string> ignore_groups(const std::string& text) {
  std::vector<std::string> groups;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    const auto& valid = ignorable_key_groups();
    if (std::find(valid.begin(), valid.end(), item) == valid.end()) {
      throw UsageError("--ignore: " + unknown_name_message("group", item, valid));
    }
    groups.push_back(item);
  }
  return groups;
}

void add_gate_options(CLI::App& app, GateOptions& o, bool paired) {
  add_threshold_option(app, o.threshold, "a change that counts as slower/faster");
  add_alpha_option(app, o.alpha,
                   paired ? "error rate of each verdict (a false slower, a false not slower) over every look: Wilcoxon "
                            "signed-rank intervals on the blocks' log ratios, alpha spent over the looks"
                          : "significance level of each one-sided test (slower, faster): Mann-Whitney U on the runs' "
                            "figures");
  add_ignore_option(app, o.ignore);
  app.add_flag(
      "--allow-undecided", o.allow_undecided,
      "exit 0 instead of 4 when undecided: no run matched, too few figures to reach alpha, or ab's --budget ran out");
  add_json_option(app, o.json, "the comparison");
  add_markdown_option(app, o.markdown, "the comparison");
  add_quiet_flag(app, o.quiet);
}

void check_gate_options(const GateOptions& o) {
  if (!(o.threshold >= 0)) throw UsageError("--threshold must be >= 0 (percent)");
  if (!(o.alpha > 0 && o.alpha < 1)) throw UsageError("--alpha must be between 0 and 1");
  if (!o.json.empty()) check_writable(o.json, "--json");
  if (!o.markdown.empty()) check_writable(o.markdown, "--markdown");
  check_distinct_outputs({{"--json", o.json}, {"--markdown", o.markdown}});
  ignore_groups(o.ignore);
}

int run_gate(const Report& base, const Report& updated, const GateOptions& o) {
  CompareSettings settings{o.threshold / 100, o.alpha, ignore_groups(o.ignore)};
  Comparison c = compare_reports(base, updated, settings);
  publish([&](FILE* human) { std::fputs(compare_console(c, settings).c_str(), human); },
          {text_output(o.markdown, [&] { return compare_markdown(c, settings); }),
           text_output(o.json, [&] { return json_text(compare_json(c, settings)); })},
          o.quiet);
  if (c.failed) {  // before everything else, and whatever --allow-undecided says
    std::fprintf(stderr, "error: %zu run(s) of '%s' failed (%s%s); a failed run never passes the gate (exit 5)\n",
                 c.failed_in_new.size(), updated.path.c_str(), c.failed_in_new.front().c_str(),
                 c.failed_in_new.size() > 1 ? ", ..." : "");
    return kExitFailedRun;
  }
  if (c.regression) return kExitRegression;
  if (!c.held_back.empty()) {
    const std::string why = fmt::format(
        "not decided: {} ({} more); one process per side cannot tell a change from the process's level: "
        "`diffbench ab` interleaves both sides until a sequential test decides",
        c.held_back.front(), c.held_back.size() - 1);
    if (o.allow_undecided) {
      std::fprintf(stderr, "warning: %s; --allow-undecided: exit 0\n", why.c_str());
      return kExitOk;
    }
    std::fprintf(stderr, "error: %s (exit 4)\n", why.c_str());
    return kExitUndecided;
  }
  if (c.matched.empty() || !c.decided) {
    std::string why = c.matched.empty()
                          ? fmt::format("no run of '{}' matches a run of '{}' ({} vs {} unmatched)", base.path,
                                        updated.path, c.only_in_base.size(), c.only_in_new.size())
                          : "no matched run has enough figures per side for a p-value below alpha";
    if (o.allow_undecided) {
      std::fprintf(stderr, "warning: %s; --allow-undecided: exit 0\n", why.c_str());
      return kExitOk;
    }
    std::fprintf(stderr, "error: %s; the gate cannot pass on nothing (exit 4; --allow-undecided accepts it)\n",
                 why.c_str());
    return kExitUndecided;
  }
  return kExitOk;
}

}  // namespace diffbench::cli
