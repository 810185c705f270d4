// `diffbench sweep`: each model is loaded once (a cell's sampler may run on its own model,
// --model-for); every cell is a run with the same fields as a
// single run, written as it finishes (--json rewritten atomically, or --jsonl appended), so a
// crash or Ctrl-C keeps every finished cell and --resume skips them.
#include <sys/stat.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <set>

#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/list_flags.h"
#include "diffbench/app/model_pool.h"
#include "diffbench/app/shard_plan.h"
#include "diffbench/app/pipeline.h"
#include "diffbench/app/open_session.h"
#include "cli/sweep_destinations.h"
#include "diffbench/app/sweep_output.h"
#include "diffbench/app/sweep_resume.h"
#include "diffbench/app/sweep.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/parse.h"
#include "diffbench/samplers/registry.h"
#include "diffbench/core/files.h"
#include "diffbench/core/sha256.h"
#include "diffbench/core/names.h"
#include "diffbench/report/environment.h"
#include "diffbench/report/json.h"
#include "diffbench/report/quality_pairs.h"
#include "diffbench/report/tables.h"
#include "diffbench/measure/run_stats.h"
#include "diffbench/plans/sweep.h"
#include "diffbench/measure/stop.h"
#include "diffbench/measure/session.h"
#include "cli/common_options.h"
#include "diffbench/app/outputs.h"

namespace diffbench::cli {
namespace {

// The table and the other outputs of the cells this process ran, then the exit code.
int finish_sweep(const RunSetup& setup, const Session& session, const Measurer& measurer,
                 const std::vector<RunResult>& results, const std::vector<Output>& journals,
                 const std::vector<CellPair>& pairs) {
  // Speed-up against DDPM when the sweep has exactly one DDPM cell (the lecture's table); with
  // several (shapes, step counts) no single baseline would be right for every row.
  const auto ddpm =
      std::count_if(results.begin(), results.end(), [](const RunResult& r) { return r.spec.sampler->name == "ddpm"; });
  report(setup, session, measurer, results, summarize_runs(results, ddpm == 1 ? "ddpm" : ""), journals, pairs);
  // #42: "--resume continues" was printed when nothing had been written.
  return exit_code(results, results.empty() ? std::string("no cell had finished: nothing was written")
                                            : fmt::format("{} finished cell(s) were written; --resume continues",
                                                          results.size()));
}

}  // namespace

void setup_sweep(CLI::App& app, SweepOptions& o) {
  add_sampler_option(app, o.samplers, Axes::lists);
  add_steps_option(app, o.steps, Axes::lists);
  app.add_option("--batch", o.batches, "batch sizes, comma-separated (replace B of every shape)");
  add_shape_option(app, o.shapes, Axes::lists);
  app.add_option("--cell", o.cells,
                 "an extra cell SAMPLER:STEPS beyond the grid (repeat or comma-separate), "
                 "e.g. ddpm:1000")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->delimiter(',');
  app.add_option("--grid", o.grid, "grid file (configs/sweeps/*.json): any of these flags as JSON keys");
  app.add_option("--jsonl", o.jsonl, "append one JSON line per finished cell here ('-' for stdout)");
  app.add_option("--resume", o.resume, "skip the cells already in this result file and keep writing to it");
  app.add_option("--shard", o.shard,
                 "run only shard I of N (I/N, 0-based); cells are balanced across shards by estimated cost");
  app.add_option("--shard-plan", o.shard_plan,
                 "print which cells each of N shards runs and its estimated work; run nothing");
  app.add_option("--quality-baseline", o.quality_baseline,
                 "with --quality: compare every cell's figures with these cells' (SAMPLER:STEPS, comma-separated), "
                 "paired on the same images")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->delimiter(',');
  app.add_option("--quality-margin", o.quality_margin,
                 "an FD difference whose paired 95% interval lies within +-this is reported as no difference")
      ->capture_default_str();
  add_common_options(app, o.run);
}

namespace {

// The grid's axes from the flags, each checked before any work.
SweepGrid parse_grid(const SweepOptions& s) {
  SweepGrid g;
  g.samplers = split_flag_list(s.samplers, "--sampler");  // none: the main model's default, once it is open
  for (const auto& name : g.samplers) find_sampler(name);
  g.steps = parse_positive_ints(s.steps, "--steps");
  for (int b : parse_positive_ints(s.batches, "--batch")) g.batches.push_back(b);
  for (const auto& shape : s.shapes) {
    g.shapes.push_back(parse_dims(shape, "--shape", 4, "B,C,H,W"));
    if (std::count(g.shapes.begin(), g.shapes.end(), g.shapes.back()) > 1) {
      throw UsageError(fmt::format("--shape {} is given twice: each cell would run twice", shape));
    }
  }
  for (const auto& text : s.cells) g.cells.push_back(parse_sampler_steps(text, "--cell", "ddpm:1000"));
  if (!s.shard.empty()) g.shard = parse_shard(s.shard);
  for (const auto& text : s.quality_baseline) g.quality_baselines.push_back(parse_sampler_steps(text, "--quality-baseline"));
  g.quality_margin = s.quality_margin;
  return g;
}

}  // namespace

int run_sweep(const SweepOptions& s) {
  g_verbose = s.run.verbose;
  SweepGrid g = parse_grid(s);
  if (s.shard_plan && *s.shard_plan < 1)
    throw UsageError(fmt::format("--shard-plan needs a number of shards >= 1, got {}", *s.shard_plan));
  RunOptions flags = s.run;
  flags.json.clear();  // sweep's own: rewritten after each cell (sweep_destinations)
  const RunSetup setup = parse_run_setup(flags);
  const bool plan_only = s.shard_plan.has_value();  // --shard-plan writes nothing: no destinations to check
  const std::optional<Destinations> dest = plan_only ? std::nullopt : std::optional(sweep_destinations(s, setup));

  ModelPool models(setup, !g.samplers.empty());
  if (g.samplers.empty()) g.samplers = models.default_samplers();
  std::vector<std::string> warnings;
  const std::vector<RunSpec> specs = grid_specs(g, models, &warnings);
  if (plan_only) return print_shard_plan(specs, models, setup.quality, *s.shard_plan);
  check_quality_baselines(g, setup, specs);
  Destinations out = *dest;
  const std::string grid = grid_identity(specs, models);
  const bool regrid = !out.previous.path.empty() &&
                      adopt_resumed_cells(out.previous, cell_configs(specs, models), grid, unet_sha256(models.main()));
  if (auto w = eta_warning(setup.spec.eta, g.samplers)) warnings.push_back(*w);
  for (const auto& w : unique(warnings)) std::fprintf(stderr, "warning: %s\n", w.c_str());

  if (!out.jsonl.empty() && !out.lock) out.lock = std::make_shared<JournalLock>(out.jsonl);  // a new file
  SweepWriter writer(out.json, out.jsonl, out.previous, setup.out.quiet, regrid, out.lock.get());
  writer.start([&models] { return environment_context(models.main(), models.main_record()); });
  size_t skipped = 0;
  std::vector<RunResult> results = run_cells(specs, g, grid, out.previous, models, setup, writer, &skipped);
  const std::vector<CellPair> pairs = sweep_quality_pairs(g, setup, models, results);
  if (!pairs.empty()) writer.set_extra("quality_pairs", quality_pairs_json(pairs, results));
  writer.finish();
  if (!setup.out.quiet && skipped)
    std::fprintf(stderr, "skipped %zu cell(s) already in '%s'\n", skipped, s.resume.c_str());
  const int code = finish_sweep(setup, models.main(), models.main_measurer(), results,
                                {journal_output(out.json), journal_output(out.jsonl)}, pairs);
  if (!writer.error().empty()) {
    throw RuntimeError(writer.error() + "; the sweep stopped after that cell (every measured cell is in the table" +
                       (out.jsonl.empty() ? "" : ", and --resume continues from the file once it can be written") + ")");
  }
  return code;
}

}  // namespace diffbench::cli
