#pragma once
// The pipeline `run` and `sweep` share after their options are checked: measure each spec (then
// its --reference and --quality figures), report the table and every output file, decide the exit
// code. The commands differ only in which specs they build and where JSON goes.
#include <functional>
#include <string>
#include <vector>

#include "cli/session.h"

namespace diffbench::cli {

class Measurer {
 public:
  Measurer(const RunSetup& setup, Session& session);
  /// One spec measured, with --reference and --quality fd attached when asked for, and with
  /// --profile one extra, uncounted repeat under the operator profiler (trace written to `profile_to`).
  RunResult measure(const RunSpec& spec, const ProgressFn& progress, const std::string& profile_to = "");
  const ReferenceRunner& reference() const { return reference_; }
  const QualityRunner& quality() const { return quality_; }

 private:
  Session& session_;
  ReferenceRunner reference_;
  QualityRunner quality_;
};

/// Where --profile FILE writes the trace of `spec` when a command runs `runs` specs: FILE itself for
/// one, else FILE with "-SAMPLER-STEPS" before its extension.
std::string profile_path(const std::string& file, const RunSpec& spec, size_t runs);
/// The profiled operators as a console block (after the table).
std::string profile_console(const RunResult& result);

/// An output file: where, and how to write it.
struct Output {
  std::string path;
  std::function<void(const std::string& path)> write;
};
/// An output whose content is text (written atomically, or to stdout for "-").
Output text_output(const std::string& path, std::function<std::string()> text);

/// Try every output with a path; the first that failed is thrown as RuntimeError, saying the measured
/// results are in the table above (unless `quiet`), so a full disk loses nothing a human can read.
void write_outputs(const std::vector<Output>& outputs, bool quiet);

/// The console table (to stderr when stdout carries an output), then `more`, --csv and --markdown
/// through write_outputs.
void report(const RunSetup& setup, const Session& session, const Measurer& measurer,
            const std::vector<RunResult>& results, const std::vector<RunRow>& rows, bool stdout_taken,
            const std::vector<Output>& more = {});

/// The exit code for finished results: the signal's when interrupted (saying `on_interrupt` on
/// stderr), kExitFailure when a run failed, else kExitOk.
int exit_code(const std::vector<RunResult>& results, const std::string& on_interrupt);

}  // namespace diffbench::cli
