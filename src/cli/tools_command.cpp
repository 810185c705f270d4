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
#include "diffbench/plans/merge.h"
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

int run_merge(const MergeOptions& o) {
  if (o.output != "-") check_writable(o.output, "--output");
  check_not_an_input(o.output, "--output", o.inputs);  // #41: `merge s0.jsonl s1.jsonl -o s0.jsonl`
  if (o.output.size() > 6 && o.output.compare(o.output.size() - 6, 6, ".jsonl") == 0)
    throw UsageError(fmt::format("--output '{}': merge writes one JSON report, not JSON lines; name it .json",
                                 o.output));
  std::vector<Report> reports;
  for (const auto& path : o.inputs) reports.push_back(read_report(path));
  const Merged merged = merge_reports(reports, o.force, o.allow_missing);
  const nlohmann::json& doc = merged.doc;
  write_outputs({text_output(o.output, [&doc] { return json_text(doc); })}, true);
  std::fprintf(stderr, "merged %zu run(s) from %zu file(s) into '%s'%s\n", doc["runs"].size(), reports.size(),
               o.output.c_str(),
               merged.duplicates ? fmt::format(" ({} duplicate(s) dropped)", merged.duplicates).c_str() : "");
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
