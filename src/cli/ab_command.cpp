// `diffbench ab`: measure both sides block by block (A B B A ...) and decide sequentially: after
// look j the test says slower, faster or not slower, or asks for more blocks, with the error rate
// held over every look (diffbench/sequential.h). When both sides run this binary they share one
// process, and the level of a process (~5% between processes here) cancels in each block's ratio;
// two binaries run one process per side per block.
#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <cstdio>
#include <cstdlib>

#include <unistd.h>

#include <fmt/format.h>

#include "cli/gate.h"
#include "cli/ab_checks.h"
#include "cli/ab_command.h"
#include "cli/ab_processes.h"
#include "cli/ab_inprocess.h"
#include "cli/ab_report.h"
#include "cli/session.h"
#include "diffbench/gate/compare.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/files.h"
#include "diffbench/report/json.h"
#include "diffbench/core/statistics.h"
#include "cli/outputs.h"

namespace diffbench::cli {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

bool show_progress(const AbOptions& o) { return !o.gate.quiet && isatty(STDERR_FILENO) && !std::getenv("CI"); }

Report side_report(const AbSide& side) {
  Report r;
  r.path = side.name + " (ab)";
  r.schema_version = kSchemaVersion;
  r.context = side.context;
  r.runs = side.runs;
  r.recorded = side.recorded;
  return r;
}

// --save-base / --save-new: a side's runs as a report `compare` reads.
Output side_output(const std::string& path, const AbSide& side, const std::string& mode, int blocks) {
  return text_output(path, [&side, mode, blocks] {
    nlohmann::json doc = {{"schema_version", kSchemaVersion},
                          {"kind", "run"},
                          {"context", side.context},
                          {"runs", side.runs},
                          {"ab", {{"side", side.name}, {"mode", mode}, {"blocks", blocks}}}};
    return json_text(doc);
  });
}

// Both sides saved (what was measured is kept when ab stops early).
void save_sides(const AbOptions& o, const AbSide& base, const AbSide& next, const std::string& mode, int blocks) {
  write_outputs({side_output(o.save_base, base, mode, blocks), side_output(o.save_new, next, mode, blocks)},
                o.gate.quiet);
}

double figure(const RecordedRun& run) { return median(run.figures("total_s")); }

std::unique_ptr<BlockSource> block_source(const AbOptions& o, const AbArgs& args) {
  if (!o.base_bin.empty() || !o.new_bin.empty() || o.separate_processes) return process_blocks(o, args);
  std::string why;
  auto source = inprocess_blocks(args, o.reload_blocks, &why);
  if (source) return source;
  if (!o.gate.quiet) std::fprintf(stderr, "note: %s: one process per side per block\n", why.c_str());
  return process_blocks(o, args);
}

// The last `count` runs of a side (one block's).
std::vector<const RecordedRun*> last_runs(const AbSide& side, size_t count) {
  std::vector<const RecordedRun*> runs;
  for (size_t i = side.recorded.size() - count; i < side.recorded.size(); ++i) runs.push_back(&side.recorded[i]);
  return runs;
}

// A failed run among the last block's runs (`count` per side; 0: all of them) ends ab with what was
// measured saved: exit 5 on the new side (a failed run never passes the gate), 1 on the base side.
std::optional<int> check_failures(const AbSide& base, const AbSide& next, size_t count, const AbOptions& o,
                                  const std::string& mode, int blocks) {
  for (const AbSide* side : {&next, &base}) {
    for (const auto* run : last_runs(*side, count ? count : side->recorded.size())) {
      if (run->ok()) continue;
      save_sides(o, base, next, mode, blocks);
      const bool in_new = side == &next;
      std::fprintf(stderr, "error: ab: a run of the %s side failed: %s: %s (%s)%s\n", side->name.c_str(),
                   run->label.c_str(), run->error.c_str(), run->status_text.c_str(),
                   in_new ? "; a failed run never passes the gate (exit 5)" : "");
      return in_new ? kExitFailedRun : kExitFailure;
    }
  }
  return std::nullopt;
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

int verdict_code(const AbResult& r, const GateOptions& o) {
  bool undecided = false;
  for (const auto& c : r.cells) {
    if (c.decided.verdict == SequentialVerdict::slower) return kExitRegression;
    undecided = undecided || c.decided.verdict == SequentialVerdict::undecided;
  }
  if (!undecided) return kExitOk;
  const char* why = r.held_back ? "some cell is undecided: it looked slower, but on blocks measured under contention "
                                  "and within the 25% allowance; rerun on a quiet machine"
                                : "some cell is undecided: its interval still straddles the threshold";
  if (o.allow_undecided) {
    std::fprintf(stderr, "warning: %s; --allow-undecided: exit 0\n", why);
    return kExitOk;
  }
  std::fprintf(stderr, "error: %s (exit 4): raise --budget, or lower the noise (docs/measurement.md)\n", why);
  return kExitUndecided;
}

int finish(AbResult& r, const AbOptions& o, const AbSide& base, const AbSide& next) {
  if (r.contended) {
    r.context_warnings.push_back(fmt::format(
        "{} of {} runs were measured under contention (other processes took the cores): their blocks are noisier, "
        "which costs blocks, not validity; a quiet machine decides sooner",
        r.contended, r.runs));
  }
  publish([&r](FILE* human) { std::fputs(ab_console(r).c_str(), human); },
          {side_output(o.save_base, base, r.mode, r.blocks), side_output(o.save_new, next, r.mode, r.blocks),
           text_output(o.gate.markdown, [&r] { return ab_markdown(r); }),
           text_output(o.gate.json, [&r] { return json_text(ab_json(r)); })},
          o.gate.quiet);
  return verdict_code(r, o.gate);
}

// After the first counted block: every cell of one side must match one of the other, else more
// blocks cannot help; the compare gate's table says what differs and what would match it.
std::optional<int> check_cells(const AbSide& base, const AbSide& next, const AbOptions& o, AbResult& r) {
  const CompareSettings settings{o.gate.threshold / 100, o.gate.alpha, ignore_groups(o.gate.ignore)};
  Comparison c = compare_reports(side_report(base), side_report(next), settings);
  r.context_warnings = c.context_warnings;
  for (const auto& m : c.matched) {
    for (const auto& d : m.differences)
      r.context_warnings.push_back(fmt::format("{} was compared across different {}", m.label, d));
  }
  if (c.matched.size() == base.runs.size() && base.runs.size() == next.runs.size()) return std::nullopt;
  if (!o.gate.quiet) std::fprintf(stderr, "ab: not every cell matches after the first block; stopping\n");
  const int code = run_gate(side_report(base), side_report(next), o.gate);
  return code == kExitOk && !o.gate.allow_undecided ? kExitUndecided : code;
}

}  // namespace

void setup_ab(CLI::App& app, AbOptions& o) {
  app.add_option("--budget", o.budget, "seconds in all: blocks are added until the test decides or this runs out")
      ->capture_default_str();
  app.add_option("--max-blocks", o.max_blocks, "at most this many counted blocks")->capture_default_str();
  app.add_option("--warmup-blocks", o.warmup_blocks, "uncounted blocks first (first forward calls, cold caches)")
      ->capture_default_str();
  app.add_option("--reload-blocks", o.reload_blocks,
                 "in one process: load both sides' models again every N counted blocks, so where they sit in "
                 "memory is drawn anew (0: once per process)")
      ->capture_default_str();
  app.add_flag("--separate-processes", o.separate_processes,
               "one process per side per block even when both sides run this binary");
  app.add_option("--base-bin", o.base_bin, "diffbench binary for the base side (a process per block)");
  app.add_option("--new-bin", o.new_bin, "diffbench binary for the new side (a process per block)");
  app.add_option("--base-args", o.base_args, "flags only the base side gets, e.g. \"--unet old.pt\"");
  app.add_option("--new-args", o.new_args, "flags only the new side gets, e.g. \"--unet new.pt\"");
  app.add_option("--save-base", o.save_base, "write the base side's runs (every block) as a report here");
  app.add_option("--save-new", o.save_new, "write the new side's runs (every block) as a report here");
  app.add_option("args", o.args, "after --: the run's flags, given to both sides (e.g. -- --sampler ddim --steps 20)");
  // 0.02, not compare's 0.05: false alarms at most 2% (issue #21; docs/compare.md has the simulation).
  o.gate.alpha = 0.02;
  add_gate_options(app, o.gate, /*paired=*/true);
}

namespace {

// Sizes the cells from the first block; an exit code when they do not all match.
std::optional<int> first_block(const AbSide& base, const AbSide& next, const AbOptions& o, AbResult& r) {
  if (auto code = check_cells(base, next, o, r)) return code;
  for (const auto& run : base.recorded) r.cells.push_back(AbCell{run.label, run.config, {}, {}, {}, {}, {}});
  r.settings = cell_settings(o.gate.alpha, static_cast<int>(r.cells.size()), o.gate.threshold / 100);
  if (o.max_blocks < r.settings.first_look) {  // #41: checked against each cell's share of alpha
    throw UsageError(fmt::format("--max-blocks {}: with {} cells each gets alpha {:g}, whose first look needs {} "
                                 "blocks; raise --max-blocks or --alpha",
                                 o.max_blocks, r.cells.size(), r.settings.alpha, r.settings.first_look));
  }
  return std::nullopt;
}

// Blocks until every cell is decided, the budget runs out or --max-blocks; an exit code when a
// run failed or the cells do not match (else the verdict decides).
std::optional<int> measure(BlockSource& source, const AbOptions& o, AbSide& base, AbSide& next, AbResult& r,
                           std::chrono::steady_clock::time_point start) {
  int look = 1;
  for (int k = 0; k < o.max_blocks; ++k) {
    const auto block_start = std::chrono::steady_clock::now();
    source.run_block(o.warmup_blocks + k, base, next);
    const double block_s = seconds_since(block_start);
    if (auto code = check_failures(base, next, k == 0 ? 0 : r.cells.size(), o, r.mode, k + 1)) return code;
    for (const AbSide* side : {&next, &base}) {  // #42: never the previous block's figure for a missing cell
      const std::string problem = k == 0 ? "" : block_cells_problem(*side, r.cells.size(), o.warmup_blocks + k);
      if (problem.empty()) continue;
      save_sides(o, base, next, r.mode, k);
      std::fprintf(stderr, "error: ab: %s%s\n", problem.c_str(),
                   side == &next ? "; a block without its figures never passes the gate (exit 5)" : "");
      return side == &next ? kExitFailedRun : kExitFailure;
    }
    auto a = last_runs(base, r.cells.size()), b = last_runs(next, r.cells.size());
    if (k == 0) {
      if (auto code = first_block(base, next, o, r)) return code;
      a = last_runs(base, r.cells.size()), b = last_runs(next, r.cells.size());
    }
    for (const auto* run : a) r.contended += run->contention.has_value();
    for (const auto* run : b) r.contended += run->contention.has_value();
    r.runs += static_cast<int>(a.size() + b.size());
    for (size_t i = 0; i < r.cells.size(); ++i) {
      r.cells[i].base_s.push_back(figure(*a[i]));
      r.cells[i].new_s.push_back(figure(*b[i]));
      r.cells[i].log_ratios.push_back(std::log(r.cells[i].new_s.back() / r.cells[i].base_s.back()));
    }
    r.blocks = k + 1;
    r.elapsed_s = seconds_since(start);
    const bool last = r.elapsed_s + block_s > o.budget || r.blocks == o.max_blocks;
    if (look_due(r.blocks, look, r.settings.first_look, last)) {
      if (look_at_cells(r, look++)) return std::nullopt;
    }
    if (last) {
      r.budget_out = true;
      return std::nullopt;
    }
    if (show_progress(o)) std::fprintf(stderr, "\rab: %d blocks, %.0f s", r.blocks, r.elapsed_s);
  }
  return std::nullopt;
}

}  // namespace

int run_ab(const AbOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  check_ab_options(o);
  const AbArgs args = ab_args(o);
  if (args.base == args.next && o.base_bin == o.new_bin && !o.gate.quiet)
    std::fprintf(stderr, "note: both sides are identical: an A/A test (it should find no change)\n");
  std::unique_ptr<BlockSource> source = block_source(o, args);
  AbSide base{"base", {}, {}, nullptr}, next{"new", {}, {}, nullptr};
  AbResult r;
  r.mode = source->mode();
  r.shared_models = source->shared_models();
  r.budget_s = o.budget;
  r.max_blocks = o.max_blocks;
  r.alpha = o.gate.alpha;
  r.settings = cell_settings(o.gate.alpha, 1, o.gate.threshold / 100);
  for (int k = 0; k < o.warmup_blocks; ++k) {  // uncounted, but a failure there ends ab too
    AbSide warm_base{"base", {}, {}, nullptr}, warm_next{"new", {}, {}, nullptr};
    source->run_block(k, warm_base, warm_next);
    if (auto code = check_failures(warm_base, warm_next, 0, o, r.mode, 0)) return *code;
  }
  try {
    if (auto code = measure(*source, o, base, next, r, start)) return *code;
  } catch (const Interrupted&) {  // what was measured is kept
    save_sides(o, base, next, r.mode, r.blocks);
    throw;
  }
  if (show_progress(o)) std::fprintf(stderr, "\r%40s\r", "");
  for (auto& cell : r.cells) {  // the budget ran out before the first look: no bounds yet
    if (!cell.looks.empty()) continue;
    cell.decided.n = r.blocks;
    cell.decided.change = std::expm1(median(cell.log_ratios));
    cell.decided.low = -1;
    cell.decided.high = std::numeric_limits<double>::infinity();
  }
  return finish(r, o, base, next);
}

}  // namespace diffbench::cli
