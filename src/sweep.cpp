// Sweep grids, cell identity, shards, and reading results back.
#include "diffbench/sweep.h"

#include <fmt/format.h>

#include <sstream>

#include "diffbench/errors.h"
#include "diffbench/io.h"

namespace diffbench {

std::vector<Cell> expand_grid(const std::vector<std::string>& samplers, const std::vector<int>& steps,
                              const std::vector<int64_t>& batches, const std::vector<std::vector<int64_t>>& shapes) {
  std::vector<Cell> cells;
  const std::vector<std::vector<int64_t>> shape_list = shapes.empty() ? std::vector<std::vector<int64_t>>{{}} : shapes;
  const std::vector<int64_t> batch_list = batches.empty() ? std::vector<int64_t>{0} : batches;
  const std::vector<int> step_list = steps.empty() ? std::vector<int>{0} : steps;
  for (const auto& shape : shape_list) {
    for (int64_t batch : batch_list) {
      for (const auto& sampler : samplers) {
        for (int s : step_list) {
          Cell cell{sampler, s, shape};
          if (batch > 0) {
            if (cell.shape.empty()) cell.shape = {batch};  // completed from the model's shape later
            else cell.shape[0] = batch;
          }
          cells.push_back(cell);
        }
      }
    }
  }
  return cells;
}

bool in_shard(size_t cell_index, int shard_index, int shard_count) {
  return static_cast<int>(cell_index % static_cast<size_t>(shard_count)) == shard_index;
}

std::pair<int, int> parse_shard(const std::string& text) {
  int index = -1, count = 0;
  char slash = 0;
  std::istringstream in(text);
  if (!(in >> index >> slash >> count) || slash != '/' || !in.eof() || count < 1 || index < 0 || index >= count) {
    throw UsageError(fmt::format("--shard '{}': expected I/N with 0 <= I < N, e.g. 0/4", text));
  }
  return {index, count};
}

std::string cell_key(const nlohmann::json& c) {
  nlohmann::json key = {{"sampler", c.value("sampler", "")},          {"steps", c.value("steps", 0)},
                        {"shape", c.value("shape", nlohmann::json())}, {"seed", c.value("seed", 0)},
                        {"eta", c.value("eta", 0.0)},                  {"guidance_scale", c.value("guidance_scale", 0.0)},
                        {"scheduler_config", c.value("scheduler_config", nlohmann::json())}};
  return key.dump();
}

Report read_report(const std::string& path) {
  Report report;
  report.path = path;
  std::string text;
  try {
    text = read_file(path, "results");
  } catch (const UsageError& e) {
    throw RuntimeError(e.what());
  }
  auto take = [&](const nlohmann::json& doc, const std::string& where) {
    if (!doc.is_object() || !doc.contains("schema_version") || !doc.contains("runs") || !doc["runs"].is_array()) {
      throw RuntimeError(fmt::format("'{}'{} is not a diffbench report (no schema_version/runs)", path, where));
    }
    int version = doc["schema_version"].is_number_integer() ? doc["schema_version"].get<int>() : -1;
    if (report.schema_version == 0) {
      report.schema_version = version;
      report.context = doc.value("context", nlohmann::json::object());
    } else if (version != report.schema_version) {
      throw RuntimeError(fmt::format("'{}' mixes schema versions {} and {}", path, report.schema_version, version));
    }
    for (const auto& run : doc["runs"]) report.runs.push_back(run);
  };
  auto whole = nlohmann::json::parse(text, nullptr, false);
  if (!whole.is_discarded()) {
    take(whole, "");
    return report;
  }
  // JSON lines: one report per line; a cut-off last line (a crash mid-append) is skipped.
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  bool pending_error = false;
  while (std::getline(lines, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (pending_error) throw RuntimeError(fmt::format("'{}' line {} is not valid JSON", path, number - 1));
    auto doc = nlohmann::json::parse(line, nullptr, false);
    if (doc.is_discarded()) {
      pending_error = true;
      continue;
    }
    take(doc, fmt::format(" line {}", number));
  }
  if (pending_error) {
    if (report.schema_version == 0) throw RuntimeError(fmt::format("'{}' is neither JSON nor JSON lines", path));
    report.truncated_tail = true;
  }
  if (report.schema_version == 0) throw RuntimeError(fmt::format("'{}' is empty", path));
  return report;
}

}  // namespace diffbench
