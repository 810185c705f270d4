#pragma once
// Where a sweep's cells go: --json (rewritten after each cell), --jsonl (appended), or the --resume
// file, checked before any work; the JSONL locked against a second sweep before it is read.
#include <memory>
#include <string>

#include "cli/run_setup.h"
#include "cli/options.h"
#include "diffbench/app/sweep_output.h"
#include "diffbench/plans/sweep.h"

namespace diffbench::cli {

/// The files a sweep writes, and the --resume file's report (no runs when not resuming).
struct Destinations {
  std::string json, jsonl;
  Report previous;
  std::shared_ptr<JournalLock> lock;  ///< on the JSONL, taken before the resumed file is read
};

/// The sweep's outputs and resumed report: UsageError for a missing output, one that is "-" for
/// --json, two flags naming one file, an unwritable path, a file of results not being resumed.
Destinations sweep_destinations(const SweepOptions& s, const RunSetup& setup);

}  // namespace diffbench::cli
