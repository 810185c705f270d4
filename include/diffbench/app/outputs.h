#pragma once
// The one way a command hands over what it measured or decided (run, sweep, ablate, ab, compare,
// history, merge): the human report on the stream no output took, then every file output tried in
// turn, each written atomically ("-": stdout), the first failure thrown only after the others were
// written. A sweep's JSONL also grows cell by cell as it runs (sweep_output.h): that is its
// journal, not a report.
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace diffbench {

/// An output file: where ("" : not asked for), and how to write it there.
struct Output {
  std::string path;
  std::function<void(const std::string& path)> write;  ///< empty: written as the command ran (a journal)
};
/// An output written as the command ran (a sweep's JSONL): not written again, but it holds its path,
/// so the human report leaves stdout to it.
Output journal_output(const std::string& path);
/// An output whose content is text (written atomically, or to stdout for "-").
Output text_output(const std::string& path, std::function<std::string()> text);

/// Where the human report goes: stderr when an output is "-" (stdout carries it), else stdout.
FILE* console_stream(const std::vector<Output>& outputs);

/// The report: `console` (unless `quiet`) on console_stream, then write_outputs.
void publish(const std::function<void(FILE*)>& console, const std::vector<Output>& outputs, bool quiet);

/// Try every output with a path; the first that failed is thrown as RuntimeError, saying the results
/// are in the report above (unless `quiet`), so a full disk loses nothing a human can read.
void write_outputs(const std::vector<Output>& outputs, bool quiet);

/// Write `text` to `path` atomically, or to stdout for "-"; an earlier diffbench report there is
/// kept as `path.~N~` with a note (`keep_earlier`; files.h: write_keeping_earlier_results).
void write_output(const std::string& path, const std::string& text, bool keep_earlier = true);

}  // namespace diffbench
