// Reading one run of a report back, typed: the status, process, pair, contention and figures the
// gate and history decide on, each checked once with an error naming the file, run and field.
#include "diffbench/plans/recorded_run.h"

#include <cmath>

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
  // #41: a run without its config matched as "? 0 steps"; "ten" steps passed merge and history.
  const nlohmann::json* config = read.object(run, "config", "config");
  if (!config) read.wrong("config", "an object (the run's settings)", nullptr);
  if (config->contains("steps") && !(*config)["steps"].is_number_integer())
    read.wrong("config.steps", "a whole number", (*config)["steps"]);
  if (config->contains("sampler") && !(*config)["sampler"].is_string())
    read.wrong("config.sampler", "a name", (*config)["sampler"]);
  r.config = *config;
  r.label = run_label(run);
  // #42: a run without a status (or null) counts as failed, as any status this build does not know.
  const std::string status = read.text(run, "status", "status");
  r.status_text = status.empty() ? "unknown (no status)" : status;
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
      if (!summary.contains("samples")) continue;
      r.samples[metric] = read.numbers(summary, "samples", field + ".samples");
      // #42: negative, zero and denormal times passed the gate (one printed -25389.8%).
      const bool seconds = metric.size() > 2 && metric.compare(metric.size() - 2, 2, "_s") == 0;
      const double least = metric == "total_s" ? 1e-9 : 0.0;  // no run takes under a nanosecond
      for (size_t i = 0; seconds && i < r.samples[metric].size(); ++i) {
        const double x = r.samples[metric][i];
        if (!(std::isfinite(x) && x >= least) || (x > 0 && x < 1e-300))
          read.wrong(fmt::format("{}.samples[{}]", field, i), least > 0 ? "a time above 1 ns" : "a time >= 0", x);
      }
    }
  }
  return r;
}

}  // namespace diffbench
