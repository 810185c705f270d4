// `diffbench sweep`: the model is loaded once; every cell is a run with the same fields as a
// single run, written as it finishes (--json rewritten atomically, or --jsonl appended), so a
// crash or Ctrl-C keeps every finished cell and --resume skips them.
#include <csignal>
#include <cstdio>
#include <set>
#include <sstream>

#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/session.h"
#include "diffbench/errors.h"
#include "diffbench/io.h"
#include "diffbench/sweep.h"

namespace diffbench::cli {
namespace {

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

std::vector<int> parse_ints(const std::string& text, const char* flag) {
  std::vector<int> values;
  for (const auto& item : split(text)) {
    if (item.size() > 7 || item.find_first_not_of("0123456789") != std::string::npos || std::stoi(item) < 1) {
      throw UsageError(fmt::format("{} '{}': expected positive integers separated by commas", flag, text));
    }
    values.push_back(std::stoi(item));
  }
  return values;
}

// A failed cell (a model error, out of memory) is recorded and the sweep goes on.
RunResult failed_cell(const RunSpec& spec, const std::string& error) {
  RunResult r;
  r.spec = spec;
  r.status = "failed";
  r.error = error;
  return r;
}

}  // namespace

void setup_sweep(CLI::App& app, SweepOptions& o) {
  app.add_option("--sampler", o.samplers, "samplers, comma-separated (default: the lecture's six)");
  app.add_option("--steps", o.steps, "step counts, comma-separated (default: each sampler's own)");
  app.add_option("--batch", o.batches, "batch sizes, comma-separated (replace B of every shape)");
  app.add_option("--shape", o.shapes, "latent shape B,C,H,W; repeat the flag for several")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--grid", o.grid, "grid file (configs/sweeps/*.json): any of these flags as JSON keys");
  app.add_option("--jsonl", o.jsonl, "append one JSON line per finished cell here ('-' for stdout)");
  app.add_option("--resume", o.resume, "skip the cells already in this result file and keep writing to it");
  app.add_option("--shard", o.shard, "run only shard I of N (I/N, 0-based): cells i with i % N == I");
  add_common_options(app, o.run);
}

std::vector<std::string> grid_to_args(const std::string& path) {
  std::string text = read_file(path, "grid");
  auto grid = nlohmann::json::parse(text, nullptr, false);
  if (grid.is_discarded() || !grid.is_object()) throw UsageError(fmt::format("grid '{}' is not a JSON object", path));
  std::vector<std::string> args;
  for (const auto& [key, value] : grid.items()) {
    if (key.empty() || key[0] == '_' || key == "description") continue;
    std::string flag = "--" + key;
    for (char& c : flag) c = c == '_' ? '-' : c;
    auto scalar = [&](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
    if (value.is_boolean()) {
      if (value.get<bool>()) args.push_back(flag);
    } else if (value.is_array() && key == "shape") {
      for (const auto& shape : value) {
        std::vector<std::string> dims;
        for (const auto& d : shape) dims.push_back(scalar(d));
        args.push_back(flag);
        args.push_back(fmt::format("{}", fmt::join(dims, ",")));
      }
    } else if (value.is_array()) {
      std::vector<std::string> items;
      for (const auto& v : value) items.push_back(scalar(v));
      args.push_back(flag);
      args.push_back(fmt::format("{}", fmt::join(items, ",")));
    } else if (!value.is_null()) {
      args.push_back(flag);
      args.push_back(scalar(value));
    }
  }
  return args;
}

int run_sweep(const SweepOptions& s) {
  RunOptions o = s.run;
  g_verbose = o.verbose;
  std::vector<std::string> warnings;
  SchedulerConfig config = build_config(o.config, &warnings);
  std::vector<std::string> samplers = s.samplers.empty()
      ? std::vector<std::string>{"ddpm", "ddim", "dpmpp_2m", "euler_a", "lcm", "turbo"} : split(s.samplers);
  for (const auto& name : samplers) find_sampler(name);
  std::vector<int> steps = parse_ints(s.steps, "--steps");
  std::vector<int64_t> batches;
  for (int b : parse_ints(s.batches, "--batch")) batches.push_back(b);
  std::vector<std::vector<int64_t>> shapes;
  for (const auto& shape : s.shapes) shapes.push_back(parse_dims(shape, "--shape", 4, "B,C,H,W"));
  auto shard = s.shard.empty() ? std::pair<int, int>{0, 1} : parse_shard(s.shard);

  // Where cells go: --json (rewritten after each cell), --jsonl (appended), or the --resume file.
  std::string json_path = o.json, jsonl_path = s.jsonl;
  Report previous;
  if (!s.resume.empty()) {
    previous = read_report(s.resume);
    if (json_path.empty() && jsonl_path.empty()) {
      bool is_jsonl = s.resume.size() > 6 && s.resume.substr(s.resume.size() - 6) == ".jsonl";
      (is_jsonl ? jsonl_path : json_path) = s.resume;
    }
  }
  if (json_path.empty() && jsonl_path.empty()) {
    throw UsageError("sweep needs --json FILE or --jsonl FILE: cells are written there as they finish");
  }
  if (json_path == "-") throw UsageError("sweep writes --json after every cell; use --jsonl - for stdout");
  o.json.clear();  // handled here, not by check_common_options' single-document logic
  check_common_options(o);
  if (!json_path.empty()) check_writable(json_path, "--json");
  if (!jsonl_path.empty()) check_writable(jsonl_path, "--jsonl");

  Session session = open_session(o);
  std::vector<Cell> cells = expand_grid(samplers, steps, batches, shapes);
  std::vector<RunSpec> specs;  // resolved up front: a bad cell is an error before any work
  for (const Cell& c : cells) {
    try {
      specs.push_back(make_spec(session, o, config, c.sampler, c.steps, c.shape));
    } catch (const UsageError& e) {
      throw UsageError(fmt::format("cell {} {} steps: {}", c.sampler, c.steps, e.what()));
    }
  }
  for (const auto& w : warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());

  // Finished cells (ok or failed) of the resumed file are kept and skipped.
  std::vector<nlohmann::json> runs = previous.runs;
  std::set<std::string> done;
  for (const auto& r : previous.runs) {
    if (r.value("status", "") != "interrupted") done.insert(cell_key(r["config"]));
  }
  const nlohmann::json context = environment_context(session);
  ReferenceRunner reference(o.reference.empty() ? std::nullopt : std::optional(parse_reference(o.reference)));
  std::vector<RunResult> results;
  size_t todo = 0, skipped = 0, index = 0;
  for (size_t i = 0; i < specs.size(); ++i) todo += in_shard(i, shard.first, shard.second);
  for (size_t i = 0; i < specs.size(); ++i) {
    if (!in_shard(i, shard.first, shard.second)) continue;
    ++index;
    const RunSpec& spec = specs[i];
    std::string label = fmt::format("[{}/{}] {} {} steps {}", index, todo, spec.sampler, spec.steps, fmt::join(spec.shape, "x"));
    if (done.count(cell_key(run_config_json(spec, session)))) {
      ++skipped;
      continue;
    }
    RunResult result;
    try {
      result = run(session, spec, progress_for(o, label));
      reference.attach(session, result);
    } catch (const RuntimeError& e) {
      result = failed_cell(spec, e.what());
    } catch (const c10::Error& e) {
      result = failed_cell(spec, one_line(e));
    } catch (const std::bad_alloc&) {
      result = failed_cell(spec, "out of memory");
    }
    clear_progress(o);
    if (result.status == "interrupted") break;  // unfinished: not written, --resume reruns it
    nlohmann::json run_json = run_to_json(result, session);
    runs.push_back(run_json);
    if (!jsonl_path.empty()) {
      append_line(jsonl_path, nlohmann::json{{"schema_version", kSchemaVersion}, {"context", context}, {"runs", {run_json}}}.dump());
    }
    if (!json_path.empty()) {
      write_file_atomically(json_path, nlohmann::json{{"schema_version", kSchemaVersion}, {"context", context}, {"runs", runs}}.dump(2) + "\n");
    }
    if (!o.quiet) {
      std::fprintf(stderr, "%s: %s\n", label.c_str(), result.status == "ok"
          ? format_seconds(summarize_runs({result}).front().total.median).c_str() : ("failed: " + result.error).c_str());
    }
    results.push_back(std::move(result));
    if (stop_requested()) break;
  }
  if (!o.quiet && skipped) std::fprintf(stderr, "skipped %zu cell(s) already in '%s'\n", skipped, s.resume.c_str());

  const std::vector<RunRow> rows = summarize_runs(results);
  bool per_sample = false;
  for (const auto& r : results) per_sample = per_sample || (r.quality && r.quality->per_sample);
  const bool stdout_taken = jsonl_path == "-" || o.csv == "-" || o.markdown == "-";
  if (!o.quiet && !results.empty()) print_table(stdout_taken ? stderr : stdout, rows, o, session, reference, per_sample);
  if (!o.csv.empty()) write_output(o.csv, csv_table(rows));
  if (!o.markdown.empty()) write_output(o.markdown, markdown_table(rows));
  if (int sig = stop_requested()) {
    std::fprintf(stderr, "error: interrupted by signal %d; %zu finished cell(s) were written; --resume continues\n", sig,
                 results.size());
    return sig == SIGTERM ? kExitSigterm : kExitSigint;
  }
  for (const RunResult& r : results) {
    if (r.status != "ok") return kExitFailure;
  }
  return kExitOk;
}

}  // namespace diffbench::cli
