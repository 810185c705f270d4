// Reading one run of a report back, typed: the status, process, pair, contention and figures the
// gate and history decide on, each checked once with an error naming the file, run and field.
#include "diffbench/plans/recorded_run.h"

#include <fmt/format.h>

#include "diffbench/core/errors.h"

namespace diffbench {

namespace {

// A field of `run` as its expected kind; absent or null: nullptr. RuntimeError naming it otherwise.
class FieldReader {
 public:
  explicit FieldReader(const std::string& where) : where_(where) {}

  const nlohmann::json* find(const nlohmann::json& in, const char* key) const {
    if (!in.is_object()) return nullptr;
    auto it = in.find(key);
    return it == in.end() || it->is_null() ? nullptr : &*it;
  }
  std::string text(const nlohmann::json& in, const char* key, const std::string& field) const {
    const nlohmann::json* v = find(in, key);
    if (!v) return "";
    if (!v->is_string()) wrong(field, "a string", *v);
    return v->get<std::string>();
  }
  const nlohmann::json* object(const nlohmann::json& in, const char* key, const std::string& field) const {
    const nlohmann::json* v = find(in, key);
    if (v && !v->is_object()) wrong(field, "an object", *v);
    return v;
  }
  std::vector<double> numbers(const nlohmann::json& in, const char* key, const std::string& field) const {
    const nlohmann::json* v = find(in, key);
    std::vector<double> out;
    if (!v) return out;
    if (!v->is_array()) wrong(field, "a list of numbers", *v);
    for (const auto& x : *v) {
      if (!x.is_number()) wrong(field, "a list of numbers", *v);
      out.push_back(x.get<double>());
    }
    return out;
  }
  [[noreturn]] void wrong(const std::string& field, const char* expected, const nlohmann::json& got) const {
    std::string shown = got.dump();
    if (shown.size() > 40) shown = shown.substr(0, 37) + "...";
    throw RuntimeError(fmt::format("{}: {} must be {}, got {} (not a report diffbench wrote; re-measure it)", where_,
                                   field, expected, shown));
  }

 private:
  const std::string& where_;
};

RunStatus status_of(const std::string& text) {
  if (text == "failed") return RunStatus::failed;
  if (text == "interrupted") return RunStatus::interrupted;
  return text == "ok" ? RunStatus::ok : RunStatus::failed;  // an unknown status never counts as ok
}

}  // namespace

const std::vector<double>& RecordedRun::figures(const std::string& metric) const {
  static const std::vector<double> none;
  auto it = samples.find(metric);
  return it == samples.end() ? none : it->second;
}

std::string run_label(const nlohmann::json& run) {
  const nlohmann::json none = nlohmann::json::object();
  const auto& c = run.is_object() && run.contains("config") && run["config"].is_object() ? run["config"] : none;
  auto shown = [&](const char* key, const char* otherwise) {
    auto it = c.find(key);
    if (it == c.end()) return std::string(otherwise);
    return it->is_string() ? it->get<std::string>() : it->dump();
  };
  std::string shape;
  if (c.contains("shape") && c["shape"].is_array()) {
    for (const auto& d : c["shape"]) shape += (shape.empty() ? "" : "x") + d.dump();
  }
  return fmt::format("{} {} steps {} seed {}", shown("sampler", "?"), shown("steps", "0"), shape, shown("seed", "0"));
}

RecordedRun read_recorded_run(const nlohmann::json& run, const std::string& where) {
  if (!run.is_object()) throw RuntimeError(fmt::format("{}: a run must be an object, got {}", where, run.type_name()));
  const FieldReader read(where);
  RecordedRun r;
  const nlohmann::json* config = read.object(run, "config", "config");
  r.config = config ? *config : nlohmann::json::object();
  r.label = run_label(run);
  const std::string status = read.text(run, "status", "status");
  r.status_text = status.empty() ? "ok" : status;
  r.status = status_of(r.status_text);
  r.error = read.text(run, "error", "error");
  if (const nlohmann::json* process = read.object(run, "process", "process")) {
    r.process_id = read.text(*process, "id", "process.id");
    if (const nlohmann::json* pair = read.find(*process, "pair")) {
      if (!pair->is_number_integer()) read.wrong("process.pair", "a whole number", *pair);
      r.pair = pair->get<int>();
    }
  }
  if (const nlohmann::json* c = read.object(run, "contention", "contention")) {
    const nlohmann::json* suspect = read.find(*c, "suspect");
    if (suspect && !suspect->is_boolean()) read.wrong("contention.suspect", "true or false", *suspect);
    if (suspect && suspect->get<bool>()) r.contention = read.text(*c, "why", "contention.why");
  }
  if (const nlohmann::json* stats = read.object(run, "stats", "stats")) {
    for (const auto& [metric, summary] : stats->items()) {
      const std::string field = "stats." + metric;
      if (!summary.is_object()) read.wrong(field, "an object", summary);
      if (summary.contains("samples")) r.samples[metric] = read.numbers(summary, "samples", field + ".samples");
    }
  }
  return r;
}

}  // namespace diffbench
