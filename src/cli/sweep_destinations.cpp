// Where a sweep's cells go, checked before any work.
#include "cli/sweep_destinations.h"

#include <sys/stat.h>

#include <fmt/format.h>

#include "cli/common_options.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/files.h"
#include "diffbench/report/json.h"

namespace diffbench::cli {

Destinations sweep_destinations(const SweepOptions& s, const RunSetup& setup) {
  const OutputSetup& o = setup.out;
  Destinations d{s.run.json, s.jsonl, {}, nullptr};
  const bool resume_is_jsonl = s.resume.size() > 6 && s.resume.substr(s.resume.size() - 6) == ".jsonl";
  const std::string journal = !d.jsonl.empty() ? d.jsonl : (d.json.empty() && resume_is_jsonl ? s.resume : "");
  struct stat journal_st {};
  if (!journal.empty() && journal != "-" && stat(journal.c_str(), &journal_st) == 0)
    d.lock = std::make_shared<JournalLock>(journal);  // an existing file: another sweep may be writing it
  struct stat resume_st {};
  if (!s.resume.empty() && stat(s.resume.c_str(), &resume_st) == 0 && S_ISREG(resume_st.st_mode) &&
      resume_st.st_size == 0) {  // a sweep stopped before its first cell: nothing to skip
    d.previous.path = s.resume;
    d.previous.schema_version = kSchemaVersion;
  } else if (!s.resume.empty()) {
    d.previous = read_report(s.resume);
  }
  if (!s.resume.empty()) {
    if (d.json.empty() && d.jsonl.empty()) (resume_is_jsonl ? d.jsonl : d.json) = s.resume;
  }
  if (d.json.empty() && d.jsonl.empty()) {
    throw UsageError("sweep needs --json FILE or --jsonl FILE: cells are written there as they finish");
  }
  if (d.json == "-") throw UsageError("sweep writes --json after every cell; use --jsonl - for stdout");
  check_distinct_outputs({{"--json", d.json}, {"--jsonl", d.jsonl}, {"--csv", o.csv}, {"--markdown", o.markdown}});
  if (!d.json.empty()) check_writable(d.json, "--json");
  if (!d.jsonl.empty()) check_writable(d.jsonl, "--jsonl");
  // #41: appending another sweep's cells to a file of results made it one that neither --resume nor
  // merge accepts. A file with results is continued only by resuming it.
  struct stat st {};
  const bool resuming_it = !s.resume.empty() && output_identity(s.resume) == output_identity(d.jsonl);
  if (!d.jsonl.empty() && d.jsonl != "-" && !resuming_it && stat(d.jsonl.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
      st.st_size > 0) {
    throw UsageError(fmt::format("--jsonl '{}' already holds results: --resume {} completes that sweep; to start "
                                 "another, name a new file or remove this one",
                                 d.jsonl, d.jsonl));
  }
  return d;
}

}  // namespace diffbench::cli
