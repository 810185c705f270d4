// Writing a sweep's cells as they finish, resumed files included.
#include "cli/sweep_output.h"

#include <cstdio>

#include "diffbench/core/files.h"
#include "diffbench/report/json.h"

namespace diffbench::cli {

SweepWriter::SweepWriter(std::string json_path, std::string jsonl_path, const Report& previous, bool quiet,
                         bool rewrite)
    : json_path_(std::move(json_path)),
      jsonl_path_(std::move(jsonl_path)),
      previous_(previous),
      quiet_(quiet),
      rewrite_(rewrite),
      runs_(previous.runs) {}

void SweepWriter::start(std::function<nlohmann::json()> context) {
  context_ = std::move(context);
  if (jsonl_path_.empty() || jsonl_path_ == "-" || previous_.path.empty()) return;
  if (!rewrite_ && output_identity(jsonl_path_) == output_identity(previous_.path)) {
    // Appending after a cut-off line would glue the next cell onto it: drop it first.
    if (previous_.truncated_tail) {
      truncate_file(jsonl_path_, previous_.valid_bytes);
      if (!quiet_) {
        std::fprintf(stderr, "note: dropped the cut-off line %d of '%s' (a write interrupted by a crash or kill)\n",
                     previous_.truncated_line, previous_.path.c_str());
      }
    }
    return;
  }
  std::string lines;  // a new JSONL file starts with the resumed cells, one per line
  for (const auto& run : previous_.runs) {
    lines +=
        nlohmann::json{{"schema_version", previous_.schema_version}, {"kind", "run"}, {"context", previous_.context},
                       {"runs", {run}}}
            .dump() +
        "\n";
  }
  write_file_atomically(jsonl_path_, lines);
}

void SweepWriter::add(const nlohmann::json& run) {
  runs_.push_back(run);
  if (!jsonl_path_.empty()) {
    append_line(jsonl_path_,
                nlohmann::json{{"schema_version", kSchemaVersion}, {"kind", "run"}, {"context", context_()}, {"runs", {run}}}
                    .dump());
  }
  write_json();
}

void SweepWriter::finish() {
  if (!json_written_) write_json();
}

void SweepWriter::set_extra(const std::string& key, nlohmann::json value) {
  extra_[key] = std::move(value);
  write_json();
}

void SweepWriter::write_json() {
  if (json_path_.empty()) return;
  nlohmann::json doc{{"schema_version", kSchemaVersion}, {"kind", "run"}, {"context", context_()}, {"runs", runs_}};
  doc.update(extra_);
  // #41: the first write keeps an earlier report of that name (unless this sweep resumes it: its
  // cells are in this one), as every other output does.
  const bool continuing = !previous_.path.empty() && output_identity(previous_.path) == output_identity(json_path_);
  if (!json_written_ && !continuing && json_path_ != "-") {
    if (const std::string kept = keep_earlier_results(json_path_); !kept.empty())
      std::fprintf(stderr, "note: '%s' held earlier results: kept as '%s'\n", json_path_.c_str(), kept.c_str());
  }
  write_file_atomically(json_path_, doc.dump(2) + "\n");
  json_written_ = true;
}

}  // namespace diffbench::cli
