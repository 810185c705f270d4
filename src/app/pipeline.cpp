#include "diffbench/app/pipeline.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "diffbench/report/quality_pairs.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/measure/profiler.h"
#include "diffbench/measure/stop.h"
#include "diffbench/measure/process_info.h"
#include "diffbench/measure/session.h"
#include "diffbench/report/tables.h"
#include "diffbench/app/runners.h"
#include "diffbench/app/outputs.h"

namespace diffbench {

Measurer::Measurer(const RunSetup& setup, const Session& session, SessionRecord& record)
    : session_(session), record_(record), reference_(setup.quality.reference), quality_(setup, session) {}

RunResult Measurer::measure(const RunSpec& spec, const ProgressFn& progress, const std::string& profile_to) {
  RunResult result = run(session_, record_, spec, progress);
  reference_.attach(session_, record_, result);
  quality_.attach(session_, record_, result);
  if (!profile_to.empty() && result.status == RunStatus::ok) {
    RunSpec once = spec;
    once.warmup = 0;
    once.repeat = 1;
    OpProfiler profiler;
    const RunResult profiled = run(session_, record_, once);
    profiler.stop();
    write_output(profile_to, profiler.chrome_trace());
    result.profile =
        ProfileResult{profile_to, profiled.repeats.empty() ? 0.0 : profiled.repeats.front().total_s, profiler.top(10)};
  }
  return result;
}

std::string profile_path(const std::string& file, const RunSpec& spec, size_t runs) {
  if (runs <= 1) return file;
  const size_t slash = file.rfind('/'), dot = file.rfind('.');
  const size_t cut = dot != std::string::npos && (slash == std::string::npos || dot > slash) ? dot : file.size();
  return fmt::format("{}-{}-{}{}", file.substr(0, cut), spec.sampler->name, spec.steps, file.substr(cut));
}

std::string profile_console(const RunResult& r) {
  if (!r.profile) return "";
  const ProfileResult& p = *r.profile;
  double self_total = 0;
  for (const OpCost& op : p.top) self_total += op.self_s;
  std::string out = fmt::format(
      "profile: {} {} steps, one uncounted repeat of {:.1f} ms under the profiler; trace: {}\n"
      "  {:<36} {:>7} {:>10} {:>10}\n",
      r.spec.sampler->name, r.spec.steps, p.wall_s * 1e3, p.trace, "operator (by self time)", "calls", "self ms", "total ms");
  for (const OpCost& op : p.top) {
    out += fmt::format("  {:<36} {:>7} {:>10.2f} {:>10.2f}\n", op.name, op.calls, op.self_s * 1e3, op.total_s * 1e3);
  }
  return out;
}

FILE* report(const RunSetup& setup, const Session& session, const Measurer& measurer,
             const std::vector<RunResult>& results, const std::vector<RunRow>& rows, const std::vector<Output>& more,
             const std::vector<CellPair>& pairs) {
  const OutputSetup& o = setup.out;
  std::vector<Output> outputs = more;
  outputs.push_back(text_output(o.csv, [&] { return csv_table(rows); }));
  outputs.push_back(text_output(o.markdown, [&] {
    const std::string paired = quality_pairs_table(pairs, results, true);
    return markdown_table(rows, o.time_unit) + (paired.empty() ? "" : "\n" + paired);
  }));
  auto table = [&](FILE* human) {
    if (results.empty()) return;
    print_table(human, rows, results, setup, session, measurer.record(), measurer.reference(), measurer.quality());
    const std::string paired = quality_pairs_table(pairs, results, false);
    if (!paired.empty()) std::fprintf(human, "\n%s", paired.c_str());
  };
  publish(table, outputs, o.quiet);
  return console_stream(outputs);
}

int exit_code(const std::vector<RunResult>& results, const std::string& on_interrupt) {
  if (int sig = stop_requested()) {
    std::fprintf(stderr, "error: interrupted by signal %d; %s\n", sig, on_interrupt.c_str());
    return sig == SIGTERM ? kExitSigterm : kExitSigint;
  }
  for (const RunResult& r : results) {
    if (r.status != RunStatus::ok) return kExitFailure;
  }
  return kExitOk;
}

namespace {

bool progress_enabled(const OutputSetup& o) {
  return !o.quiet && isatty(STDERR_FILENO) && std::getenv("CI") == nullptr;
}

}  // namespace

ProgressFn progress_for(const OutputSetup& o, const std::string& label) {
  if (!progress_enabled(o)) return {};
  auto last = std::make_shared<double>(-1.0);
  return [label, last](const Progress& p) {  // redrawn at most 10 times a second
    if (p.elapsed_s - *last < 0.1 && p.step != p.steps) return;
    *last = p.elapsed_s;
    double done = (double(p.run) * p.steps + p.step) / (double(p.runs) * p.steps);
    double eta = done > 0 ? p.elapsed_s * (1 - done) / done : 0;
    double rate = p.elapsed_s > 0 ? (double(p.run) * p.steps + p.step) / p.elapsed_s : 0;
    std::fprintf(stderr, "\r\033[K%s  run %d/%d  step %d/%d  %.1f it/s  ETA %.1f s", label.c_str(), p.run + 1, p.runs,
                 p.step, p.steps, rate, eta);
    std::fflush(stderr);
  };
}

void clear_progress(const OutputSetup& o) {
  if (progress_enabled(o)) std::fputs("\r\033[K", stderr);
}

// Each first forward call a run recorded, with its model's file name when runs used several models
// (a sampler routed to a student loads and warms the student, not the main UNet).
std::string cold_forwards_text(const std::vector<RunResult>& results) {
  std::vector<std::pair<std::string, double>> seen;
  for (const RunResult& r : results) {
    if (r.cold_forward_s) seen.emplace_back(r.spec.model_name, *r.cold_forward_s);
  }
  if (seen.empty()) return "-";
  if (seen.size() == 1) return format_seconds(seen.front().second);
  std::string text;
  for (const auto& [model, s] : seen)
    text += fmt::format("{}{} ({})", text.empty() ? "" : ", ", format_seconds(s), model);
  return text;
}

namespace {

// "10 repeat(s)", or what an interrupted or failed run really counted (#41: the footer said 10 where
// the JSON held 4).
std::string repeats_text(const std::vector<RunResult>& results, int asked) {
  size_t low = SIZE_MAX, high = 0;
  for (const RunResult& r : results) low = std::min(low, r.repeats.size()), high = std::max(high, r.repeats.size());
  if (results.empty() || (low == high && int(low) == asked)) return fmt::format("{} repeat(s)", asked);
  if (low == high) return fmt::format("{} counted repeat(s) of the {} asked", low, asked);
  return fmt::format("{}-{} counted repeat(s) of the {} asked (the JSON has each row's)", low, high, asked);
}

}  // namespace

void print_table(FILE* out, const std::vector<RunRow>& rows, const std::vector<RunResult>& results,
                 const RunSetup& setup, const Session& session, const SessionRecord& record,
                 const ReferenceRunner& reference, const QualityRunner& quality) {
  const bool any_per_sample =
      std::any_of(rows.begin(), rows.end(), [](const RunRow& r) { return r.quality && r.quality->per_sample; });
  std::fprintf(out, "%s", console_table(rows, setup.out.time_unit).c_str());
  std::fprintf(out,
               "Time/Step: median over %s of the mean step time; Total: median wall time of one run "
               "(initial noise + steps%s), after %d warm-up run(s); it/s = steps / median time in steps%s; Spread: "
               "IQR / median of Total (! when over 10%%: too noisy to trust; n=1: one run, no spread).\n"
               "Model load %s, first (cold) forward %s: not included above. %s, %d thread(s), %s.\n",
               repeats_text(results, setup.spec.repeat).c_str(), session.vae ? " + VAE decode" : "", setup.spec.warmup,
               session.vae ? " (VAE decode excluded)" : "", format_seconds(record.unet_load_s).c_str(),
               cold_forwards_text(results).c_str(), session.device.str().c_str(), session.threads,
               dtype_name(session.dtype).c_str());
  std::fputs(quality.legend().c_str(), out);
  // Noise the reader should know about, with the numbers it may have distorted (as hyperfine does).
  for (const auto& w : machine_warnings(session.threads, std::thread::hardware_concurrency(), record.load_at_start)) {
    std::fprintf(out, "Warning: %s.\n", w.c_str());
  }
  if (setup.spec.repeat == 1) {  // #41: a quick look's numbers read as a measurement
    const std::string repeat = setting_name("repeat");
    std::fprintf(out,
                 "Warning: one counted repeat (%s 1): no spread and no interval, a quick look and not a "
                 "measurement; %s 3 or more to compare.\n",
                 repeat.c_str(), repeat.c_str());
  }
  if (std::any_of(rows.begin(), rows.end(), [](const RunRow& r) { return r.nfe != r.steps; })) {
    std::fprintf(out,
                 "NFE: model evaluations per image run (heun: two a step but the last); compare samplers by it.\n");
  }
  if (!rows.empty() && rows.front().speedup > 0) {
    std::fprintf(out, "Speed-up: ddpm's Total divided by this sampler's Total.\n");
  }
  if (reference.enabled()) {
    std::fprintf(
        out,
        "RMSE / PSNR: final latents against %s from the same initial noise (PSNR peak: the reference's range)%s.\n",
        reference.name().c_str(),
        any_per_sample ? "; * = stochastic sampler: one sample against one sample, not a distributional metric" : "");
  }
  std::fflush(out);
}

}  // namespace diffbench
