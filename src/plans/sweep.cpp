// Sweep grids, cell identity, shards, and reading results back.
#include "diffbench/plans/sweep.h"

#include <algorithm>

#include <fmt/format.h>

#include <set>
#include <sstream>

#include "diffbench/core/errors.h"
#include "diffbench/core/files.h"
#include "diffbench/report/json.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/core/json_depth.h"

namespace diffbench {

std::vector<Cell> expand_grid(const std::vector<std::string>& samplers, const std::vector<int>& steps,
                              const std::vector<int64_t>& batches, const std::vector<std::vector<int64_t>>& shapes) {
  std::vector<Cell> cells;
  const std::vector<std::vector<int64_t>> shape_list = shapes.empty() ? std::vector<std::vector<int64_t>>{{}} : shapes;
  const std::vector<int64_t> batch_list = batches.empty() ? std::vector<int64_t>{0} : batches;
  std::vector<std::optional<int>> step_list(steps.begin(), steps.end());
  if (step_list.empty()) step_list.push_back(std::nullopt);  // each sampler's own
  // #42: 10^9 cells exhausted memory while planning, 10^6 took 91 s; no sweep is meant that big.
  const double count = double(shape_list.size()) * double(batch_list.size()) * double(samplers.size()) *
                       double(step_list.size());
  if (count > double(kMaxGridCells)) {
    throw UsageError(fmt::format("the grid has {:.0f} cells ({} sampler(s) x {} step count(s) x {} batch(es) x {} "
                                 "shape(s)); a sweep takes at most {}: narrow an axis or split the grid into shards",
                                 count, samplers.size(), step_list.size(), batch_list.size(), shape_list.size(),
                                 kMaxGridCells));
  }
  for (const auto& shape : shape_list) {
    for (int64_t batch : batch_list) {
      for (const auto& sampler : samplers) {
        for (const std::optional<int>& s : step_list) {
          Cell cell{sampler, s, shape};
          if (batch > 0) {
            if (cell.shape.empty())
              cell.shape = {batch};  // completed from the model's shape later
            else
              cell.shape[0] = batch;
          }
          cells.push_back(cell);
        }
      }
    }
  }
  return cells;
}

double cell_cost(int evaluations, const std::vector<int64_t>& shape, int repeats, bool guided, int64_t fd_samples) {
  double per_image = static_cast<double>(evaluations) * (guided ? 2 : 1);
  for (size_t d = 1; d < shape.size(); ++d) per_image *= static_cast<double>(shape[d]);
  const double batch = shape.empty() ? 1.0 : static_cast<double>(shape[0]);
  return per_image * (batch * repeats + static_cast<double>(fd_samples));
}

std::vector<int> assign_shards(const std::vector<double>& costs, int shard_count) {
  std::vector<size_t> order(costs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return costs[a] > costs[b]; });
  std::vector<double> load(static_cast<size_t>(std::max(1, shard_count)), 0.0);
  std::vector<int> shard(costs.size(), 0);
  for (size_t i : order) {
    const size_t least = static_cast<size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    shard[i] = static_cast<int>(least);
    load[least] += costs[i];
  }
  return shard;
}

std::pair<int, int> parse_shard(const std::string& text) {
  int index = -1, count = 0;
  char slash = 0;
  std::istringstream in(text);
  if (!(in >> index >> slash >> count) || slash != '/' || !in.eof() || count < 1 || index < 0 || index >= count) {
    throw UsageError(fmt::format("{} '{}': expected I/N with 0 <= I < N, e.g. 0/4", setting_name("shard"), text));
  }
  return {index, count};
}

const std::vector<std::string>& ignorable_key_groups() {
  static const std::vector<std::string> groups = {"model",   "cond",  "dtype", "device",
                                                  "threads", "shape", "steps", "optimisations"};
  return groups;
}

namespace {

// Config fields that do not change the measured work: where the files are, how often it ran.
const char* const kNotIdentity[] = {"unet", "vae", "warmup", "repeat"};

std::vector<std::string> fields_of_group(const std::string& group) {
  if (group == "model") return {"unet_sha256", "vae_sha256"};
  return {group};
}

}  // namespace

std::string ignorable_group_of(const std::string& field) {
  std::string top = field.substr(0, field.find('.'));
  for (const auto& group : ignorable_key_groups()) {
    for (const auto& f : fields_of_group(group)) {
      if (f == top) return group;
    }
  }
  return "";
}

namespace {

void collect_differences(const nlohmann::json& a, const nlohmann::json& b, const std::string& prefix,
                         std::vector<std::string>* out) {
  if (a.is_object() && b.is_object()) {
    std::set<std::string> keys;
    for (const auto& [k, v] : a.items()) keys.insert(k);
    for (const auto& [k, v] : b.items()) keys.insert(k);
    for (const auto& k : keys) {
      collect_differences(a.value(k, nlohmann::json()), b.value(k, nlohmann::json()),
                          prefix.empty() ? k : prefix + "." + k, out);
    }
  } else if (a != b) {
    out->push_back(prefix);
  }
}

}  // namespace

// The config's identity fields. Reports written before the optimisation flags existed have no
// "optimisations": they ran with none, so they match runs with none.
static nlohmann::json identity_fields(const nlohmann::json& c) {
  nlohmann::json key = c.is_object() ? c : nlohmann::json::object();
  for (const char* field : kNotIdentity) key.erase(field);
  // The conditioning is identified by its content (sha256), not by where its file was: the same
  // model found through another path (a second build's default model) is the same cell. "zeros"
  // and "" stay as they are; a file's path becomes "file".
  if (key.contains("cond") && key["cond"].is_object()) {
    for (const char* field : {"source", "uncond_source"}) {
      auto it = key["cond"].find(field);
      if (it != key["cond"].end() && it->is_string() && *it != "zeros" && *it != "") *it = "file";
    }
  }
  if (!key.contains("optimisations")) {
    static const nlohmann::json none = optimisations_json(Session{});
    key["optimisations"] = none;
  }
  return key;
}

std::string cell_key(const nlohmann::json& c, const std::vector<std::string>& ignore) {
  nlohmann::json key = identity_fields(c);
  for (const auto& group : ignore) {
    for (const auto& field : fields_of_group(group)) key.erase(field);
  }
  return key.dump();  // nlohmann's objects are sorted by key: equal configs dump equally
}

std::vector<std::string> config_differences(const nlohmann::json& a, const nlohmann::json& b) {
  std::vector<std::string> out;
  collect_differences(identity_fields(a), identity_fields(b), "", &out);
  return out;
}

// What a document is: its "kind", or for files from before every output carried one, its shape
// ("" for a run report).
static std::string document_kind(const nlohmann::json& doc) {
  if (!doc.is_object()) return "";
  if (doc.contains("kind") && doc["kind"].is_string()) return doc["kind"].get<std::string>();
  if (doc.contains("ab") && doc.contains("cells")) return "ab";
  if (doc.contains("history") && doc.contains("cells")) return "history";
  if (doc.contains("geomean_ratio") && doc.contains("regression")) return "compare";
  return "";
}

// One report document (a whole file, or one JSON line) added to `report`; all must share a schema version.
static void add_document(Report& report, const nlohmann::json& doc, const std::string& where) {
  const std::string& path = report.path;
  // #41: compare's, ab's and history's JSON were read as run reports (raw nlohmann errors, `? 0 steps`).
  if (const std::string kind = document_kind(doc); !kind.empty() && kind != "run") {
    throw RuntimeError(fmt::format("'{}'{} is a `diffbench {}` report; this reads run reports (of run, sweep, merge "
                                   "and ablate, and ab's saved sides)",
                                   path, where, kind));
  }
  if (!doc.is_object() || !doc.contains("schema_version") || !doc.contains("runs") || !doc["runs"].is_array()) {
    throw RuntimeError(fmt::format("'{}'{} is not a diffbench report (no schema_version/runs)", path, where));
  }
  // #42: "2", 3 or 999999999999 were matched anyway (read as -1 or an overflowed int).
  const nlohmann::json& v = doc["schema_version"];
  if (!v.is_number_integer() || v.get<int64_t>() < 1) {
    throw RuntimeError(fmt::format("'{}'{}: schema_version must be a whole number from 1, got {}", path, where, v.dump()));
  }
  if (v.get<int64_t>() > kSchemaVersion) {
    throw RuntimeError(fmt::format("'{}'{} has schema_version {}, newer than this diffbench reads ({}): read it with the "
                                   "diffbench that wrote it, or a newer one",
                                   path, where, v.dump(), kSchemaVersion));
  }
  const int version = static_cast<int>(v.get<int64_t>());
  if (report.schema_version == 0) {
    report.schema_version = version;
    report.context = doc.value("context", nlohmann::json::object());
  } else if (version != report.schema_version) {
    throw RuntimeError(fmt::format("'{}' mixes schema versions {} and {}", path, report.schema_version, version));
  }
  size_t index = 0;
  for (const auto& run : doc["runs"]) report.add_run(run, fmt::format("'{}'{} runs[{}]", path, where, index++));
}

void Report::add_run(nlohmann::json run, const std::string& where) {
  recorded.push_back(read_recorded_run(run, where));
  runs.push_back(std::move(run));
}

Report report_from_document(const nlohmann::json& doc, const std::string& path) {
  Report report;
  report.path = path;
  add_document(report, doc, "");
  return report;
}

Report read_report(const std::string& path) {
  Report report;
  report.path = path;
  const std::string text = read_file(path, "results");  // missing: exit 2, as for every input
  auto take = [&](const nlohmann::json& doc, const std::string& where) { add_document(report, doc, where); };
  if (const std::string deep = json_nesting_problem(text); !deep.empty())  // #42: it crashed every reader
    throw RuntimeError(fmt::format("'{}' is not a diffbench report: {}", path, deep));
  auto whole = nlohmann::json::parse(text, nullptr, false);
  if (!whole.is_discarded()) {
    take(whole, "");
    report.valid_bytes = text.size();
    return report;
  }
  // JSON lines: one report per line; a cut-off last line (a crash mid-append) is reported to the
  // caller (truncated_tail), which decides: resume drops it, merge refuses it.
  size_t offset = 0;
  int number = 0, bad_line = 0;
  size_t bad_offset = 0;
  while (offset < text.size()) {
    size_t end = text.find('\n', offset);
    size_t next = end == std::string::npos ? text.size() : end + 1;
    std::string line = text.substr(offset, (end == std::string::npos ? text.size() : end) - offset);
    ++number;
    if (line.find_first_not_of(" \t\r") != std::string::npos) {
      if (bad_line) throw RuntimeError(fmt::format("'{}' line {} is not valid JSON", path, bad_line));
      auto doc = nlohmann::json::parse(line, nullptr, false);
      if (doc.is_discarded()) {
        bad_line = number;
        bad_offset = offset;
      } else {
        take(doc, fmt::format(" line {}", number));
      }
    }
    offset = next;
  }
  report.valid_bytes = text.size();
  // #42: a cut first line (disk full mid-line) made the file unresumable; it is a JSONL with no cell yet.
  // (diffbench's lines are objects with sorted keys: each begins {"context":).
  if (bad_line == 1 && report.schema_version == 0 && text.rfind("{\"context\":", 0) == 0 &&
      text.find('\n') == std::string::npos) {
    report.schema_version = kSchemaVersion;
    report.context = nlohmann::json::object();  // no cell, no context yet
  }
  if (bad_line) {
    if (report.schema_version == 0) throw RuntimeError(fmt::format("'{}' is neither JSON nor JSON lines", path));
    report.truncated_tail = true;
    report.truncated_line = bad_line;
    report.valid_bytes = bad_offset;
  }
  if (report.schema_version == 0) throw RuntimeError(fmt::format("'{}' is empty", path));
  return report;
}

}  // namespace diffbench
