// `diffbench merge` (join shards) and `diffbench compare` (the CI regression gate).
#include <cstdio>
#include <map>
#include <set>

#include <fmt/format.h>

#include "cli/session.h"
#include "diffbench/compare.h"
#include "diffbench/errors.h"
#include "diffbench/io.h"
#include "diffbench/sweep.h"

namespace diffbench::cli {

void setup_merge(CLI::App& app, MergeOptions& o) {
  app.add_option("inputs", o.inputs, "result files (JSON or JSON lines) to join")->required()->expected(1, -1);
  app.add_option("-o,--output", o.output, "the merged JSON report")->required();
  app.add_flag("--force", o.force, "merge anyway: keep the first of duplicate cells, allow different models");
}

int run_merge(const MergeOptions& o) {
  check_writable(o.output, "--output");
  std::vector<Report> reports;
  for (const auto& path : o.inputs) reports.push_back(read_report(path));
  for (const auto& r : reports) {
    if (r.schema_version != reports.front().schema_version) {
      throw UsageError(fmt::format("'{}' has schema_version {} but '{}' has {}; merge files of one version",
                                   r.path, r.schema_version, reports.front().path, reports.front().schema_version));
    }
  }
  std::set<std::string> keys, models;
  nlohmann::json runs = nlohmann::json::array(), sources = nlohmann::json::array();
  size_t duplicates = 0;
  for (const auto& r : reports) {
    sources.push_back({{"path", r.path}, {"runs", r.runs.size()}, {"context", r.context}});
    for (const auto& run : r.runs) {
      models.insert(run["config"].value("unet_sha256", ""));
      if (!keys.insert(cell_key(run["config"])).second) {
        if (!o.force) {
          throw UsageError(fmt::format("'{}' repeats a cell already merged ({} {} steps); pass --force to keep the first",
                                       r.path, run["config"].value("sampler", "?"), run["config"].value("steps", 0)));
        }
        ++duplicates;
        continue;
      }
      runs.push_back(run);
    }
  }
  if (models.size() > 1 && !o.force) {
    throw UsageError(fmt::format("the inputs measured {} different UNet files (sha256 differ); pass --force to merge anyway",
                                 models.size()));
  }
  nlohmann::json doc = {{"schema_version", reports.front().schema_version},
                        {"context", reports.front().context},
                        {"merged_from", sources},
                        {"runs", runs}};
  write_file_atomically(o.output, doc.dump(2) + "\n");
  std::fprintf(stderr, "merged %zu run(s) from %zu file(s) into '%s'%s\n", runs.size(), reports.size(), o.output.c_str(),
               duplicates ? fmt::format(" ({} duplicate(s) dropped)", duplicates).c_str() : "");
  return kExitOk;
}

void setup_compare(CLI::App& app, CompareOptions& o) {
  app.add_option("base", o.base, "the baseline result file")->required();
  app.add_option("new", o.updated, "the new result file")->required();
  app.add_option("--threshold", o.threshold, "percent change that counts as slower/faster")->capture_default_str();
  app.add_option("--alpha", o.alpha, "significance level of the Mann-Whitney U test")->capture_default_str();
  app.add_option("--json", o.json, "write the comparison as JSON ('-' for stdout)");
  app.add_option("--markdown", o.markdown, "write the comparison as GitHub Markdown ('-' for stdout)");
  app.add_flag("--quiet,-q", o.quiet, "no console table");
}

int run_compare(const CompareOptions& o) {
  if (!(o.threshold >= 0)) throw UsageError("--threshold must be >= 0 (percent)");
  if (!(o.alpha > 0 && o.alpha < 1)) throw UsageError("--alpha must be between 0 and 1");
  if (!o.json.empty()) check_writable(o.json, "--json");
  if (!o.markdown.empty()) check_writable(o.markdown, "--markdown");
  if (o.json == "-" && o.markdown == "-") throw UsageError("only one of --json, --markdown can write to stdout");
  Report base = read_report(o.base), updated = read_report(o.updated);
  Comparison c = compare_reports(base, updated, o.threshold / 100, o.alpha);
  FILE* human = (o.json == "-" || o.markdown == "-") ? stderr : stdout;

  for (const auto& w : c.context_warnings) std::fprintf(stderr, "warning: the two contexts differ: %s\n", w.c_str());
  size_t min_n = SIZE_MAX;
  for (const auto& run : base.runs) min_n = std::min<size_t>(min_n, run["repeats"].size());
  for (const auto& run : updated.runs) min_n = std::min<size_t>(min_n, run["repeats"].size());
  if (min_n != SIZE_MAX && mann_whitney_min_p(min_n, min_n) >= o.alpha) {
    std::fprintf(stderr, "warning: with %zu repeat(s) per side the smallest possible p-value is %.3f >= alpha %g: "
                         "nothing can be called slower; measure with --repeat 5 or more\n",
                 min_n, mann_whitney_min_p(min_n, min_n), o.alpha);
  }

  std::string table = fmt::format("{:<40} {:<10} {:>11} {:>11} {:>8} {:>8}  {}\n", "Run", "Metric", "Base", "New", "Change", "p", "Verdict");
  std::string md = "| Run | Metric | Base | New | Change | p | Verdict |\n|---|---|---:|---:|---:|---:|---|\n";
  nlohmann::json jruns = nlohmann::json::array();
  for (const auto& run : c.matched) {
    nlohmann::json jm = nlohmann::json::array();
    for (const auto& m : run.metrics) {
      table += fmt::format("{:<40} {:<10} {:>11} {:>11} {:>+7.1f}% {:>8.3f}  {}\n", run.label, m.metric,
                           format_seconds(m.base_median), format_seconds(m.new_median), 100 * m.change, m.p_value, m.verdict);
      md += fmt::format("| {} | {} | {} | {} | {:+.1f}% | {:.3f} | {} |\n", run.label, m.metric, format_seconds(m.base_median),
                        format_seconds(m.new_median), 100 * m.change, m.p_value, m.verdict);
      jm.push_back({{"metric", m.metric}, {"base_median_s", m.base_median}, {"new_median_s", m.new_median},
                    {"change", m.change}, {"p_value", m.p_value}, {"verdict", m.verdict}});
    }
    jruns.push_back({{"run", run.label}, {"metrics", jm}});
  }
  std::string summary = fmt::format("Geometric mean of new/base total time over {} matched run(s): {:.3f} ({:+.1f}%). "
                                    "Threshold {}%, alpha {}. {}",
                                    c.matched.size(), c.geomean_ratio, 100 * (c.geomean_ratio - 1), o.threshold, o.alpha,
                                    c.regression ? "REGRESSION: some run is significantly slower." : "No significant slowdown.");
  std::string unmatched;
  for (const auto& l : c.only_in_base) unmatched += "only in base: " + l + "\n";
  for (const auto& l : c.only_in_new) unmatched += "only in new: " + l + "\n";
  if (!o.quiet) std::fprintf(human, "%s%s%s\n", table.c_str(), unmatched.c_str(), summary.c_str());
  if (!o.markdown.empty()) {
    std::string md_unmatched;
    for (const auto& l : c.only_in_base) md_unmatched += "- only in base: " + l + "\n";
    for (const auto& l : c.only_in_new) md_unmatched += "- only in new: " + l + "\n";
    write_output(o.markdown, md + "\n" + md_unmatched + (md_unmatched.empty() ? "" : "\n") + summary + "\n");
  }
  if (!o.json.empty()) {
    nlohmann::json doc = {{"schema_version", 1},         {"threshold_percent", o.threshold}, {"alpha", o.alpha},
                          {"regression", c.regression}, {"geomean_ratio", c.geomean_ratio},
                          {"runs", jruns},              {"only_in_base", c.only_in_base},
                          {"only_in_new", c.only_in_new}, {"context_warnings", c.context_warnings}};
    write_output(o.json, doc.dump(2) + "\n");
  }
  return c.regression ? kExitRegression : kExitOk;
}

}  // namespace diffbench::cli
