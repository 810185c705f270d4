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
#include "diffbench/app/ab_inprocess.h"
#include "diffbench/gate/ab_loop.h"
#include "diffbench/gate/ab_report.h"
#include "diffbench/app/open_session.h"
#include "diffbench/gate/compare.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/files.h"
#include "diffbench/report/json.h"
#include "diffbench/core/statistics.h"
#include "diffbench/app/outputs.h"

namespace diffbench::cli {
namespace {

bool show_progress(const AbOptions& o) { return !o.gate.quiet && isatty(STDERR_FILENO) && !std::getenv("CI"); }

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

std::unique_ptr<BlockSource> block_source(const AbOptions& o, const AbArgs& args) {
  if (!o.base_bin.empty() || !o.new_bin.empty() || o.separate_processes) return process_blocks(o, args);
  std::string why;
  auto source = inprocess_blocks(parse_side(args.base, "base"), parse_side(args.next, "new"), o.reload_blocks, &why);
  if (source) return source;
  if (!o.gate.quiet) std::fprintf(stderr, "note: %s: one process per side per block\n", why.c_str());
  return process_blocks(o, args);
}

int verdict_code(const AbResult& r, const GateOptions& o) {
  const SequentialVerdict verdict = ab_verdict(r);
  if (verdict == SequentialVerdict::slower) return kExitRegression;
  if (verdict != SequentialVerdict::undecided) return kExitOk;
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

int run_ab(const AbOptions& o) {
  AbPlan plan;  // the budget starts now: loading and warm-up count
  check_ab_options(o);
  const AbArgs args = ab_args(o);
  if (args.base == args.next && o.base_bin == o.new_bin && !o.gate.quiet)
    std::fprintf(stderr, "note: both sides are identical: an A/A test (it should find no change)\n");
  std::unique_ptr<BlockSource> source = block_source(o, args);
  plan.budget_s = o.budget;
  plan.max_blocks = o.max_blocks;
  plan.warmup_blocks = o.warmup_blocks;
  plan.alpha = o.gate.alpha;
  plan.threshold = o.gate.threshold / 100;
  plan.ignore = ignore_groups(o.gate.ignore);
  AbSide base{"base", {}, {}, nullptr}, next{"new", {}, {}, nullptr};
  AbResult r;
  AbStop stop;
  const auto progress = [&o](const AbResult& now) {
    if (show_progress(o)) std::fprintf(stderr, "\rab: %d blocks, %.0f s", now.blocks, now.elapsed_s);
  };
  try {
    stop = run_ab_blocks(*source, plan, base, next, r, progress);
  } catch (const Interrupted&) {  // what was measured is kept (nothing yet during the warm-up blocks)
    if (!base.runs.empty() || !next.runs.empty()) save_sides(o, base, next, r.mode, r.blocks);
    throw;
  }
  if (show_progress(o)) std::fprintf(stderr, "\r%40s\r", "");
  if (stop.kind == AbStop::cells_differ) {  // the compare gate's table says what differs and what would match
    if (!o.gate.quiet) std::fprintf(stderr, "ab: %s; stopping\n", stop.why.c_str());
    const int code = run_gate(ab_side_report(base), ab_side_report(next), o.gate);
    return code == kExitOk && !o.gate.allow_undecided ? kExitUndecided : code;
  }
  if (stop.kind != AbStop::finished) {  // a failed run: exit 5 on the new side, 1 on the base side
    save_sides(o, base, next, r.mode, r.blocks);
    const bool in_new = stop.kind == AbStop::failed_new;
    std::fprintf(stderr, "error: ab: %s%s\n", stop.why.c_str(), in_new ? " (exit 5)" : "");
    return in_new ? kExitFailedRun : kExitFailure;
  }
  return finish(r, o, base, next);
}

}  // namespace diffbench::cli
