// `diffbench ablate`: measure the baseline, then each configuration of the plan in a session of its
// own (models loaded with its flags, the previous session freed first so memory is its own), then
// derive the table. A configuration that cannot run is a row with its error, never the end.
#include <cstdio>
#include <fstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/ablate_command.h"
#include "diffbench/app/ablation_runs.h"
#include "diffbench/app/pipeline.h"
#include "diffbench/app/open_session.h"
#include "diffbench/plans/ablation.h"
#include "diffbench/core/errors.h"
#include "diffbench/report/environment.h"
#include "diffbench/report/json.h"
#include "diffbench/core/statistics.h"
#include "diffbench/plans/ablation_tables.h"
#include "cli/common_options.h"
#include "diffbench/app/outputs.h"

namespace diffbench::cli {
namespace {

// Drift against the baseline, the derived figures, the table and the files; the exit code.
int finish_and_report(const RunSetup& setup, Ablation& ablation, const std::vector<AblationMeasured>& done) {
  const OutputSetup& o = setup.out;
  const RunResult& base = done.front().result;
  nlohmann::json runs = nlohmann::json::array();
  std::vector<RunResult> results;
  for (const AblationMeasured& m : done) {
    AblationRow row = m.row;
    if (&m != &done.front() && row.status == RunStatus::ok)
      row.drift_psnr_db = output_drift_db(m.result, base, &row.drift_on);
    ablation.rows.push_back(row);
    if (!m.run_json.is_null()) runs.push_back(m.run_json);
    results.push_back(m.result);
    if (m.row.status == RunStatus::failed) results.back().status = RunStatus::failed;
  }
  finish_ablation(ablation);
  auto ladder = [&](FILE* human) {
    const AblationRow& b = ablation.rows.front();
    std::fprintf(human, "optimisation ladder: %s %d steps, shape %s, %s; %d counted repeats each\n%s",
                 b.sampler.c_str(), b.steps, fmt::format("{}", fmt::join(base.spec.shape, "x")).c_str(),
                 ablation.device.c_str(), setup.spec.repeat, ablation_console(ablation).c_str());
  };
  const nlohmann::json doc = {{"schema_version", kSchemaVersion},
                              {"kind", "run"},
                              {"context", done.front().context},
                              {"ablation", ablation_json(ablation)},
                              {"runs", runs}};
  publish(ladder,
          {text_output(o.json, [&] { return json_text(doc); }),
           text_output(o.csv, [&] { return ablation_csv(ablation); }),
           text_output(o.markdown, [&] { return ablation_markdown(ablation); })},
          o.quiet);
  return exit_code(results, "finished configurations were written");
}

// The ablate-only checks (the run flags are checked by parse_run_setup).
void check_ablate_options(const AblateOptions& a) {
  const RunOptions& o = a.run;
  if (o.vary_seed)
    throw UsageError("ablate compares each output with the baseline's from the same seed; drop --vary-seed");
  // 3 against 3 repeats cannot give a distribution-free 95% interval for a ratio; 4 against 4 can.
  if (o.repeat < 4) {
    throw UsageError(
        fmt::format("ablate --repeat {} gives no 95% interval for a speed-up; use --repeat 4 or more", o.repeat));
  }
  if (!(a.max_drift_db > 0)) throw UsageError("--max-drift-db must be positive (a PSNR in dB, e.g. 40)");
  if (!a.toggles.empty()) parse_toggles(a.toggles);
  if (!a.fast.empty() && a.fast != "none") parse_fast(a.fast);
}

}  // namespace

void setup_ablate(CLI::App& app, AblateOptions& a) {
  a.run.repeat = 5;
  add_sampler_option(app, a.run.sampler, Axes::baseline);
  add_steps_option(app, a.run.steps, Axes::baseline);
  add_shape_option(app, a.run.shape, Axes::baseline);
  app.add_option("--toggles", a.toggles,
                 "comma-separated: freeze, bf16, fp16, fp32, channels-last, vae-tiling=TILE[:OVERLAP], threads=N, "
                 "cuda-graphs, compile (default: freeze, bf16 where the CPU has it or fp16 on CUDA, channels-last, "
                 "cuda-graphs on CUDA, vae-tiling at half the latent when 32 or more, compile with a package)");
  app.add_option("--fast", a.fast,
                 "SAMPLER:STEPS[@MODEL]: the last rung, all toggles plus a few-step sampler (default: the default "
                 "model's LCM student; none: no few-step rung)");
  app.add_option("--max-drift-db", a.max_drift_db, "output PSNR against the baseline below this: \"changes results\"")
      ->capture_default_str();
  add_common_options(app, a.run);
}

int run_ablate(const AblateOptions& a) {
  g_verbose = a.run.verbose;
  const RunSetup o = parse_run_setup(a.run);
  check_ablate_options(a);

  Ablation ablation;
  ablation.max_drift_db = a.max_drift_db;
  LadderRequest request;
  if (!a.toggles.empty()) request.toggles = parse_toggles(a.toggles);
  if (!a.fast.empty() && a.fast != "none") request.fast = parse_fast(a.fast);
  request.default_fast = a.fast.empty();
  const std::vector<AblationMeasured> done = measure_ladder(o, request, ablation);
  return finish_and_report(o, ablation, done);
}

}  // namespace diffbench::cli
