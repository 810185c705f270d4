#pragma once
// The pipeline `run` and `sweep` share after their options are checked: measure each spec (then
// its --reference and --quality figures), report the table and every output file, decide the exit
// code. The commands differ only in which specs they build and where JSON goes.
#include <functional>
#include <string>
#include <vector>

#include "diffbench/app/outputs.h"
#include "diffbench/app/runners.h"
#include "diffbench/app/open_session.h"
#include "diffbench/quality/cell_pairs.h"
#include "diffbench/report/tables.h"
#include "diffbench/measure/session.h"

namespace diffbench {

/// A progress line on stderr when it is a terminal, not with --quiet and not in CI; else empty.
ProgressFn progress_for(const OutputSetup& out, const std::string& label);
/// Erase the progress line (when one was drawn).
void clear_progress(const OutputSetup& out);

/// The console table and its legend (units, what each column is).
/// The cold forward is each model's own: a run routed to a student names the student's.
void print_table(FILE* out, const std::vector<RunRow>& rows, const std::vector<RunResult>& results,
                 const RunSetup& setup, const Session& session, const SessionRecord& record,
                 const ReferenceRunner& reference, const QualityRunner& quality);

class Measurer {
 public:
  Measurer(const RunSetup& setup, const Session& session, SessionRecord& record);
  /// One spec measured, with --reference and --quality fd attached when asked for, and with
  /// --profile one extra, uncounted repeat under the operator profiler (trace written to `profile_to`).
  RunResult measure(const RunSpec& spec, const ProgressFn& progress, const std::string& profile_to = "");
  const ReferenceRunner& reference() const { return reference_; }
  const QualityRunner& quality() const { return quality_; }
  const SessionRecord& record() const { return record_; }

 private:
  const Session& session_;
  SessionRecord& record_;
  ReferenceRunner reference_;
  QualityRunner quality_;
};

/// Where --profile FILE writes the trace of `spec` when a command runs `runs` specs: FILE itself for
/// one, else FILE with "-SAMPLER-STEPS" before its extension.
std::string profile_path(const std::string& file, const RunSpec& spec, size_t runs);
/// The profiled operators as a console block (after the table).
std::string profile_console(const RunResult& result);

/// The console table, then `more`, --csv and --markdown: one publish (cli/outputs.h). Returns the
/// stream the human report went to (stderr when an output took stdout), for what follows it.
/// `pairs`: a sweep's paired quality differences, shown after the table and in --markdown.
FILE* report(const RunSetup& setup, const Session& session, const Measurer& measurer,
             const std::vector<RunResult>& results, const std::vector<RunRow>& rows,
             const std::vector<Output>& more = {}, const std::vector<CellPair>& pairs = {});

/// The exit code for finished results: the signal's when interrupted (saying `on_interrupt` on
/// stderr), kExitFailure when a run failed, else kExitOk.
int exit_code(const std::vector<RunResult>& results, const std::string& on_interrupt);

}  // namespace diffbench
