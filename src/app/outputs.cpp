#include "diffbench/app/outputs.h"

#include <cstdio>
#include <utility>

#include "diffbench/core/errors.h"
#include "diffbench/core/files.h"

namespace diffbench {

Output text_output(const std::string& path, std::function<std::string()> text) {
  return {path, [text = std::move(text)](const std::string& p) { write_output(p, text()); }};
}

Output journal_output(const std::string& path) { return {path, {}}; }

FILE* console_stream(const std::vector<Output>& outputs) {
  for (const Output& out : outputs) {
    if (out.path == "-") return stderr;
  }
  return stdout;
}

void publish(const std::function<void(FILE*)>& console, const std::vector<Output>& outputs, bool quiet) {
  if (!quiet && console) {
    FILE* human = console_stream(outputs);
    console(human);
    std::fflush(human);
  }
  write_outputs(outputs, quiet);
}

void write_outputs(const std::vector<Output>& outputs, bool quiet) {
  std::vector<std::string> errors;
  for (const Output& out : outputs) {
    if (out.path.empty() || !out.write) continue;
    try {
      out.write(out.path);
    } catch (const RuntimeError& e) {
      errors.push_back(e.what());
    }
  }
  if (!errors.empty())
    throw RuntimeError(errors.front() + (quiet ? "" : " (the measured results are in the table above)"));
}

void write_output(const std::string& path, const std::string& text, bool keep_earlier) {
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  } else if (!keep_earlier) {
    write_file_atomically(path, text);
  } else if (const std::string kept = write_keeping_earlier_results(path, text); !kept.empty()) {
    // #41: a second run naming the same file replaced the first one's results without a word.
    std::fprintf(stderr, "note: '%s' held earlier results: kept as '%s'\n", path.c_str(), kept.c_str());
  }
}

}  // namespace diffbench
