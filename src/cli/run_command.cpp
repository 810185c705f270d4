// The main command: load the models once, run the asked sampler (or the lecture's six), report.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <unistd.h>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diffbench/app/data_files.h"
#include "diffbench/app/model_pool.h"
#include "diffbench/app/pipeline.h"
#include "diffbench/app/open_session.h"
#include "diffbench/core/errors.h"
#include "diffbench/measure/process_info.h"
#include "diffbench/core/npy.h"
#include "diffbench/core/png.h"
#include "diffbench/report/json.h"
#include "diffbench/report/tables.h"
#include "cli/common_options.h"
#include "diffbench/app/outputs.h"

namespace diffbench::cli {


namespace {

// Which model each sampler runs on, said once when they are not all the same.
void note_models(const RunSetup& setup, const ModelPool& models, const std::vector<RunSpec>& specs) {
  if (setup.out.quiet) return;
  std::vector<std::string> others;
  const std::string main = models.main_path();
  for (const RunSpec& spec : specs) {
    std::string path = models.path_for(spec.sampler->name);
    if (path != main) others.push_back(fmt::format("{} on {}", spec.sampler->name, path));
  }
  if (others.empty()) return;
  std::fprintf(
      stderr, "note: %s; the rest on %s (%s)\n", fmt::format("{}", fmt::join(others, ", ")).c_str(), main.c_str(),
      setup.session.model_for.empty() ? "the default model's manifest names its students; --model-for overrides"
                                      : "--model-for");
}

// Each sampler in turn, with its notes and warnings; an interrupted run ends the list.
void measure_run_specs(const OutputSetup& o, ModelPool& models, const std::vector<RunSpec>& specs,
                       std::vector<RunResult>& results, std::vector<const Session*>& sessions) {
  for (const RunSpec& spec : specs) {
    if (!o.quiet && specs.size() > 1)
      std::fprintf(stderr, "running %s (%d steps)...\n", spec.sampler->name.c_str(), spec.steps);
    const std::string profile = o.profile.empty() ? "" : profile_path(o.profile, spec, specs.size());
    results.push_back(models.measurer_for(spec).measure(spec, progress_for(o, spec.sampler->name), profile));
    sessions.push_back(&models.session_for(spec));
    clear_progress(o);
    if (!o.quiet) {
      for (const auto& note : results.back().plan.notes)
        std::fprintf(stderr, "note: %s: %s\n", spec.sampler->name.c_str(), note.c_str());
      for (const auto& w : results.back().warnings)
        std::fprintf(stderr, "warning: %s: %s\n", spec.sampler->name.c_str(), w.c_str());
    }
    if (results.back().status == RunStatus::interrupted) break;
  }
}

}  // namespace

void setup_run(CLI::App& app, RunOptions& o) {
  add_run_options(app, o);
}

int run_run(const RunOptions& flags) {
  g_verbose = flags.verbose;
  const RunSetup setup = parse_run_setup(flags);
  const OutputSetup& o = setup.out;
  std::vector<std::string> warnings;

  ModelPool models(setup, !setup.sampler.empty());
  const std::vector<std::string> samplers =
      setup.sampler.empty() ? models.default_samplers() : std::vector<std::string>{setup.sampler};
  // A model named alone runs its manifest's one sampler, and --steps is that sampler's; only the
  // lecture's six, each at its own default, leave --steps without a sampler to belong to.
  if (flags.steps && samplers.size() > 1)
    throw UsageError("--steps needs --sampler: with no --sampler the lecture's six samplers run, each at its own "
                     "default step count");
  std::vector<RunSpec> specs;
  for (const auto& name : samplers) specs.push_back(models.spec(name, std::nullopt, {}, &warnings));
  if (!o.save_images.empty() && !models.session_for(specs.back()).vae) {  // the VAE may come from a manifest
    throw UsageError("--save-images needs --vae (images are decoded latents)");
  }
  note_models(setup, models, specs);
  if (auto w = eta_warning(setup.spec.eta, samplers)) warnings.push_back(*w);
  for (const auto& w : unique(warnings)) std::fprintf(stderr, "warning: %s\n", w.c_str());
  // The machine's warnings before the run, not only under its table (#41: they came after 28 s), to a
  // person at a terminal, as the progress line; scripts and CI read them in the footer and the JSON,
  // and a failing run's stderr stays its one error line.
  const bool terminal = isatty(STDERR_FILENO) && !std::getenv("CI");
  for (const auto& w : machine_warnings(models.main().threads, std::thread::hardware_concurrency(),
                                        models.main_record().load_at_start)) {
    if (!o.quiet && terminal) std::fprintf(stderr, "warning: %s\n", w.c_str());
  }

  std::vector<RunResult> results;
  std::vector<const Session*> sessions;
  measure_run_specs(o, models, specs, results, sessions);

  // Report everything measured, even after a failure or an interruption: the table first, so a
  // file that cannot be written (full disk) loses nothing a human can read.
  const std::vector<RunRow> rows = summarize_runs(results, samplers.size() > 1 ? "ddpm" : "");
  const RunResult& last = results.back();
  std::vector<Output> files = {
      text_output(o.json, [&] { return json_text(report_json(sessions, models.main_record(), results)); })};
  if (last.latents.defined()) files.push_back(text_output(o.save_latents, [&] { return to_npy(last.latents); }));
  if (last.images.defined())
    files.push_back({o.save_images, [&](const std::string& dir) { write_pngs(last.images, dir); }});
  FILE* human = report(setup, models.main(), models.main_measurer(), results, rows, files);
  for (const RunResult& r : results) {
    if (r.profile && !o.quiet) std::fprintf(human, "%s", profile_console(r).c_str());
  }
  for (const RunResult& r : results) {
    if (r.status == RunStatus::failed) std::fprintf(stderr, "error: %s: %s\n", r.spec.sampler->name.c_str(), r.error.c_str());
  }
  return exit_code(results, "finished results were written");
}

}  // namespace diffbench::cli
