#include "cli/pipeline.h"

#include <csignal>
#include <cstdio>

#include "diffbench/errors.h"

namespace diffbench::cli {

Measurer::Measurer(const RunOptions& o, Session& session)
    : session_(session),
      reference_(o.reference.empty() ? std::nullopt : std::optional(parse_reference(o.reference))),
      quality_(o, session) {}

RunResult Measurer::measure(const RunSpec& spec, const ProgressFn& progress) {
  RunResult result = run(session_, spec, progress);
  reference_.attach(session_, result);
  quality_.attach(session_, result);
  return result;
}

Output text_output(const std::string& path, std::function<std::string()> text) {
  return {path, [text = std::move(text)](const std::string& p) { write_output(p, text()); }};
}

void report(const RunOptions& o, const Session& session, const Measurer& measurer,
            const std::vector<RunResult>& results, const std::vector<RunRow>& rows, bool stdout_taken,
            const std::vector<Output>& more) {
  bool per_sample = false;
  for (const auto& r : results) per_sample = per_sample || (r.quality && r.quality->per_sample);
  if (!o.quiet && !results.empty()) {
    print_table(stdout_taken ? stderr : stdout, rows, o, session, measurer.reference(), per_sample,
                &measurer.quality());
  }
  std::vector<Output> outputs = more;
  outputs.push_back(text_output(o.csv, [&] { return csv_table(rows); }));
  outputs.push_back(text_output(o.markdown, [&] { return markdown_table(rows, o.time_unit); }));
  std::vector<std::string> errors;
  for (const Output& out : outputs) {
    if (out.path.empty()) continue;
    try {
      out.write(out.path);
    } catch (const RuntimeError& e) {
      errors.push_back(e.what());
    }
  }
  if (!errors.empty())
    throw RuntimeError(errors.front() + (o.quiet ? "" : " (the measured results are in the table above)"));
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

}  // namespace diffbench::cli
