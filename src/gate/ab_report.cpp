// `ab`'s sequential verdict as a console table, GitHub Markdown and JSON.
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diffbench/gate/ab_report.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/core/statistics.h"
#include "diffbench/report/json.h"
#include "diffbench/report/tables.h"

namespace diffbench {
namespace {

std::string percent(double x) {
  if (x <= -1) return "-inf";
  if (std::isinf(x)) return "+inf";
  return fmt::format("{:+.1f}%", 100 * x);
}

std::string look_interval(const SequentialLook& l) { return fmt::format("[{}, {}]", percent(l.low), percent(l.high)); }

std::string shown_verdict(const SequentialLook& l) {
  return l.verdict == SequentialVerdict::slower ? "SLOWER" : sequential_verdict_name(l.verdict);
}

std::string header(const AbResult& r) {
  return fmt::format("ab ({}{}): {} blocks in {:.1f} s (budget {:.0f} s, at most {} blocks){}", r.mode,
                     r.shared_models ? ", both sides on one copy of the models" : "", r.blocks, r.elapsed_s, r.budget_s,
                     r.max_blocks, r.budget_out ? "; the budget ran out" : "");
}

std::string legend(const AbResult& r) {
  return fmt::format(
      "Each block runs every cell once per side, in the order A B B A ...; change: the Hodges-Lehmann estimate "
      "of new/base over the blocks; interval: the one-sided bounds of the look that decided (look j spends "
      "{:g}/(j(j+1)) per bound, so the error rate over every look is at most {:g}{}). slower: lower bound above "
      "0 and change above {:g}%; not slower: upper bound below {:g}%; faster: upper bound below 0 and change "
      "below -{:g}%.\n",
      r.settings.alpha, r.alpha, r.cells.size() > 1 ? ", split over the cells" : "", 100 * r.settings.threshold,
      100 * r.settings.threshold, 100 * r.settings.threshold);
}

}  // namespace

std::string ab_verdict_line(const AbResult& r) {
  std::vector<std::string> slower, undecided;
  for (const auto& c : r.cells) {
    if (c.decided.verdict == SequentialVerdict::slower)
      slower.push_back(fmt::format("{} {} {}", c.label, percent(c.decided.change), look_interval(c.decided)));
    if (c.decided.verdict == SequentialVerdict::undecided) undecided.push_back(c.label);
  }
  if (!slower.empty())
    return fmt::format("REGRESSION: slower by more than {:g}%: {} (exit 3).\n", 100 * r.settings.threshold,
                       fmt::join(slower, "; "));
  if (!undecided.empty())
    return fmt::format("UNDECIDED: {} still straddle{} the threshold after {} blocks (exit 4 unless {}).\n",
                       fmt::join(undecided, ", "), undecided.size() == 1 ? "s" : "", r.blocks,
                       setting_name("allow_undecided"));
  return fmt::format("No slowdown: every cell is not slower than {:g}% (exit 0).\n", 100 * r.settings.threshold);
}

std::string ab_console(const AbResult& r) {
  std::string out = header(r) + "\n";
  size_t width = 4;
  for (const auto& c : r.cells) width = std::max(width, c.label.size());
  out += fmt::format("{:<{}}  {:>10}  {:>10}  {:>7}  {:>17}  {:>6}  {}\n", "cell", width, "base", "new", "change",
                     "interval", "blocks", "verdict");
  for (const auto& c : r.cells) {
    out += fmt::format("{:<{}}  {:>10}  {:>10}  {:>7}  {:>17}  {:>6}  {}\n", c.label, width,
                       format_seconds(median(c.base_s)), format_seconds(median(c.new_s)), percent(c.decided.change),
                       look_interval(c.decided), c.decided.n, shown_verdict(c.decided));
  }
  for (const auto& w : r.context_warnings) out += "WARNING: " + w + "\n";
  return out + legend(r) + ab_verdict_line(r);
}

std::string ab_markdown(const AbResult& r) {
  std::string out = "### diffbench ab\n\n" + header(r) + "\n\n";
  out += "| cell | base | new | change | interval | blocks | verdict |\n|---|---:|---:|---:|---|---:|---|\n";
  for (const auto& c : r.cells) {
    out += fmt::format("| {} | {} | {} | {} | {} | {} | **{}** |\n", c.label, format_seconds(median(c.base_s)),
                       format_seconds(median(c.new_s)), percent(c.decided.change), look_interval(c.decided), c.decided.n,
                       shown_verdict(c.decided));
  }
  out += "\n";
  for (const auto& w : r.context_warnings) out += "> WARNING: " + w + "\n";
  const std::string verdict = ab_verdict_line(r);
  return out + "\n" + legend(r) + "\n**" + verdict.substr(0, verdict.size() - 1) + "**\n";
}

nlohmann::json ab_json(const AbResult& r) {
  auto bound = [](double x) { return std::isinf(x) || x <= -1 ? nlohmann::json(nullptr) : nlohmann::json(x); };
  auto look_json = [&](const SequentialLook& l) {
    return nlohmann::json{{"look", l.look},
                          {"n", l.n},
                          {"level", l.level},
                          {"change", l.change},
                          {"low", bound(l.low)},
                          {"high", bound(l.high)},
                          {"verdict", sequential_verdict_name(l.verdict)}};
  };
  nlohmann::json cells = nlohmann::json::array();
  for (const auto& c : r.cells) {
    nlohmann::json looks = nlohmann::json::array();
    for (const auto& l : c.looks) looks.push_back(look_json(l));
    cells.push_back({{"label", c.label},
                     {"config", c.config},
                     {"base_s", c.base_s},
                     {"new_s", c.new_s},
                     {"log_ratios", c.log_ratios},
                     {"looks", looks},
                     {"decision", look_json(c.decided)}});
  }
  return {{"schema_version", kSchemaVersion},
          {"kind", "ab"},
          {"ab",
           {{"mode", r.mode},
            {"shared_models", r.shared_models},
            {"blocks", r.blocks},
            {"elapsed_s", r.elapsed_s},
            {"budget_s", r.budget_s},
            {"max_blocks", r.max_blocks},
            {"budget_out", r.budget_out},
            {"held_back", r.held_back},
            {"alpha", r.alpha},
            {"cell_alpha", r.settings.alpha},
            {"threshold", r.settings.threshold},
            {"first_look", r.settings.first_look},
            {"design", "signed-rank interval, alpha spent alpha/(j(j+1)) at look j"}}},
          {"cells", cells},
          {"context_warnings", r.context_warnings}};
}

}  // namespace diffbench
