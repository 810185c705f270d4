// `ab`'s decision loop: blocks until every cell is decided, the budget runs out or the block limit;
// a failed run or a block without every cell stops it (a missing cell would otherwise borrow the
// previous block's figure).
#include "diffbench/gate/ab_loop.h"

#include <chrono>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "diffbench/core/errors.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/core/statistics.h"
#include "diffbench/gate/compare.h"
#include "diffbench/report/json.h"

namespace diffbench {
namespace {

double ab_seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double block_figure(const RecordedRun& run) { return median(run.figures("total_s")); }

// The last `count` runs of a side (one block's).
std::vector<const RecordedRun*> last_block_runs(const AbSide& side, size_t count) {
  std::vector<const RecordedRun*> runs;
  for (size_t i = side.recorded.size() - count; i < side.recorded.size(); ++i) runs.push_back(&side.recorded[i]);
  return runs;
}

// A failed run among the last block's runs (`count` per side; 0: all of them).
AbStop failed_run(const AbSide& base, const AbSide& next, size_t count) {
  for (const AbSide* side : {&next, &base}) {
    for (const auto* run : last_block_runs(*side, count ? count : side->recorded.size())) {
      if (run->ok()) continue;
      const bool in_new = side == &next;
      return {in_new ? AbStop::failed_new : AbStop::failed_base,
              fmt::format("a run of the {} side failed: {}: {} ({}){}", side->name, run->label, run->error,
                          run->status_text, in_new ? "; a failed run never passes the gate" : "")};
    }
  }
  return {};
}

// Why block `block` of `side` cannot count (its runs are not one per cell of the first block, in
// the same order), or "" when it can.
std::string block_cells_problem(const AbSide& side, size_t cells, int block) {
  size_t in_block = 0;
  for (const auto& run : side.runs) in_block += run.value("ab_block", -1) == block;
  bool same = in_block == cells && side.recorded.size() >= 2 * cells;
  for (size_t i = 0; same && i < cells; ++i)
    same = side.recorded[side.recorded.size() - cells + i].label == side.recorded[i].label;
  if (same) return "";
  return fmt::format("block {} of the {} side reported {} run(s), not the {} cell(s) of its first block", block,
                     side.name, in_block, cells);
}

AbStop missing_cells(const AbSide& base, const AbSide& next, size_t cells, int block) {
  for (const AbSide* side : {&next, &base}) {  // #42: never the previous block's figure for a missing cell
    const std::string problem = block_cells_problem(*side, cells, block);
    if (problem.empty()) continue;
    if (side == &next) return {AbStop::failed_new, problem + "; a block without its figures never passes the gate"};
    return {AbStop::failed_base, problem};
  }
  return {};
}

// Look j at every undecided cell; true when every cell is decided.
bool look_at_cells(AbResult& r, int j) {
  bool all = true;
  for (auto& cell : r.cells) {
    if (cell.decided.verdict != SequentialVerdict::undecided) continue;
    cell.decided = sequential_look(cell.log_ratios, j, r.settings);
    // #41: an A/A pair on a loaded CI machine was called slower. Blocks measured under contention
    // decide "slower" only beyond the between-process allowance (as compare); else more blocks.
    if (cell.decided.verdict == SequentialVerdict::slower && r.contended > 0 &&
        cell.decided.change <= kBetweenProcessAllowance) {
      cell.decided.verdict = SequentialVerdict::undecided;
      r.held_back = true;
    }
    cell.looks.push_back(cell.decided);
    all = all && cell.decided.verdict != SequentialVerdict::undecided;
  }
  return all;
}

// After the first counted block: every cell of one side must match one of the other (compare's
// matching), else more blocks cannot help. Sizes the cells and each one's share of alpha.
AbStop first_block(const AbSide& base, const AbSide& next, const AbPlan& plan, AbResult& r) {
  Comparison c = compare_reports(ab_side_report(base), ab_side_report(next),
                                 CompareSettings{plan.threshold, plan.alpha, plan.ignore});
  r.context_warnings = c.context_warnings;
  for (const auto& m : c.matched) {
    for (const auto& d : m.differences)
      r.context_warnings.push_back(fmt::format("{} was compared across different {}", m.label, d));
  }
  if (c.matched.size() != base.runs.size() || base.runs.size() != next.runs.size())
    return {AbStop::cells_differ, "not every cell matches after the first block"};
  for (const auto& run : base.recorded) r.cells.push_back(AbCell{run.label, run.config, {}, {}, {}, {}, {}});
  r.settings = cell_settings(plan.alpha, static_cast<int>(r.cells.size()), plan.threshold);
  if (plan.max_blocks < r.settings.first_look) {  // #41: checked against each cell's share of alpha
    throw UsageError(fmt::format("{} {}: with {} cells each gets alpha {:g}, whose first look needs {} "
                                 "blocks; raise {} or {}",
                                 setting_name("max_blocks"), plan.max_blocks, r.cells.size(), r.settings.alpha,
                                 r.settings.first_look, setting_name("max_blocks"), setting_name("alpha")));
  }
  return {};
}

// One counted block's figures added to every cell.
void add_block(const AbSide& base, const AbSide& next, AbResult& r) {
  auto a = last_block_runs(base, r.cells.size()), b = last_block_runs(next, r.cells.size());
  for (const auto* run : a) r.contended += run->contention.has_value();
  for (const auto* run : b) r.contended += run->contention.has_value();
  r.runs += static_cast<int>(a.size() + b.size());
  for (size_t i = 0; i < r.cells.size(); ++i) {
    r.cells[i].base_s.push_back(block_figure(*a[i]));
    r.cells[i].new_s.push_back(block_figure(*b[i]));
    r.cells[i].log_ratios.push_back(std::log(r.cells[i].new_s.back() / r.cells[i].base_s.back()));
  }
}

AbStop counted_blocks(BlockSource& source, const AbPlan& plan, AbSide& base, AbSide& next, AbResult& r,
                      const std::function<void(const AbResult&)>& progress) {
  int look = 1;
  for (int k = 0; k < plan.max_blocks; ++k) {
    const auto block_start = std::chrono::steady_clock::now();
    source.run_block(plan.warmup_blocks + k, base, next);
    const double block_s = ab_seconds_since(block_start);
    AbStop stop = failed_run(base, next, k == 0 ? 0 : r.cells.size());
    if (stop.kind != AbStop::finished) {
      r.blocks = k + 1;  // the failed block's runs are in the sides
      return stop;
    }
    stop = k == 0 ? first_block(base, next, plan, r)
                  : missing_cells(base, next, r.cells.size(), plan.warmup_blocks + k);
    if (stop.kind != AbStop::finished) return stop;
    add_block(base, next, r);
    r.blocks = k + 1;
    r.elapsed_s = ab_seconds_since(plan.started);
    const bool last = r.elapsed_s + block_s > plan.budget_s || r.blocks == plan.max_blocks;
    if (look_due(r.blocks, look, r.settings.first_look, last) && look_at_cells(r, look++)) return {};
    if (last) {
      r.budget_out = true;
      return {};
    }
    if (progress) progress(r);
  }
  return {};
}

}  // namespace

Report ab_side_report(const AbSide& side) {
  Report r;
  r.path = side.name + " (ab)";
  r.schema_version = kSchemaVersion;
  r.context = side.context;
  r.runs = side.runs;
  r.recorded = side.recorded;
  return r;
}

AbStop run_ab_blocks(BlockSource& source, const AbPlan& plan, AbSide& base, AbSide& next, AbResult& r,
                     const std::function<void(const AbResult&)>& progress) {
  r.mode = source.mode();
  r.shared_models = source.shared_models();
  r.budget_s = plan.budget_s;
  r.max_blocks = plan.max_blocks;
  r.alpha = plan.alpha;
  r.settings = cell_settings(plan.alpha, 1, plan.threshold);
  for (int k = 0; k < plan.warmup_blocks; ++k) {  // uncounted, but a failure there ends ab too
    AbSide warm_base{base.name, {}, {}, nullptr}, warm_next{next.name, {}, {}, nullptr};
    source.run_block(k, warm_base, warm_next);
    AbStop stop = failed_run(warm_base, warm_next, 0);
    if (stop.kind == AbStop::finished) continue;
    base = std::move(warm_base);  // what the caller saves: the block that failed
    next = std::move(warm_next);
    return stop;
  }
  AbStop stop = counted_blocks(source, plan, base, next, r, progress);
  if (stop.kind != AbStop::finished) return stop;
  for (auto& cell : r.cells) {  // the budget ran out before the first look: no bounds yet
    if (!cell.looks.empty()) continue;
    cell.decided.n = r.blocks;
    cell.decided.change = std::expm1(median(cell.log_ratios));
    cell.decided.low = -1;
    cell.decided.high = std::numeric_limits<double>::infinity();
  }
  return stop;
}

SequentialVerdict ab_verdict(const AbResult& r) {
  bool undecided = false;
  for (const auto& c : r.cells) {
    if (c.decided.verdict == SequentialVerdict::slower) return SequentialVerdict::slower;
    undecided = undecided || c.decided.verdict == SequentialVerdict::undecided;
  }
  return undecided ? SequentialVerdict::undecided : SequentialVerdict::not_slower;
}

}  // namespace diffbench
