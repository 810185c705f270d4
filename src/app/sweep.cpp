// A sweep's cells: the grid's specs resolved up front, each cell measured, written as it finishes
// and skipped when a resumed file has it (see sweep.h).
#include "diffbench/app/sweep.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "diffbench/app/shard_plan.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/core/sha256.h"
#include "diffbench/measure/run_stats.h"
#include "diffbench/measure/stop.h"
#include "diffbench/report/json.h"
#include "diffbench/report/tables.h"

namespace diffbench {
namespace {

// A failed cell (a model error, out of memory) is recorded and the sweep goes on.
RunResult failed_cell(const RunSpec& spec, const std::string& error) {
  RunResult r;
  r.spec = spec;
  r.status = RunStatus::failed;
  r.error = error;
  return r;
}

void print_cell(const std::string& label, const RunResult& result) {
  std::fprintf(stderr, "%s: %s\n", label.c_str(),
               result.status == RunStatus::ok ? format_seconds(compute_stats(result).total.median).c_str()
                                              : ("failed: " + result.error).c_str());
  for (const auto& note : result.plan.notes) std::fprintf(stderr, "  note: %s\n", note.c_str());
  for (const auto& w : result.warnings) std::fprintf(stderr, "  warning: %s\n", w.c_str());
}

}  // namespace

// Each cell's run config, in grid order.
std::vector<nlohmann::json> cell_configs(const std::vector<RunSpec>& specs, ModelPool& models) {
  std::vector<nlohmann::json> configs;
  for (const auto& spec : specs) configs.push_back(run_config_json(spec, models.session_for(spec)));
  return configs;
}

// The identity of a grid: the hash of its cells' keys in order, the same for every shard.
std::string grid_identity(const std::vector<RunSpec>& specs, ModelPool& models) {
  nlohmann::json keys = nlohmann::json::array();
  for (const auto& config : cell_configs(specs, models)) keys.push_back(cell_key(config));
  return sha256_hex(keys.dump());
}

RunResult run_cell(Measurer& measurer, const RunSpec& spec, const ProgressFn& progress) {
  try {
    return measurer.measure(spec, progress);
  } catch (const RuntimeError& e) {
    return failed_cell(spec, e.what());
  } catch (const c10::Error& e) {
    return failed_cell(spec, one_line(e));
  } catch (const std::bad_alloc&) {
    return failed_cell(spec, "out of memory");
  }
}

// Every cell's spec, resolved up front (a bad cell is an error before any work); --cell adds cells
// beyond the grid, each at every shape and batch of the grid.
std::vector<RunSpec> grid_specs(const SweepGrid& g, ModelPool& models, std::vector<std::string>* warnings) {
  std::vector<Cell> cells = expand_grid(g.samplers, g.steps, g.batches, g.shapes);
  for (const auto& [name, count] : g.cells) {
    for (const Cell& c : expand_grid({name}, {count}, g.batches, g.shapes)) {
      for (const Cell& other : cells) {
        if (other.sampler == c.sampler && other.steps == c.steps && other.shape == c.shape) {
          throw UsageError(fmt::format("{} {}:{} is already in the grid", setting_name("cell"), name, count));
        }
      }
      cells.push_back(c);
    }
  }
  std::vector<RunSpec> specs;
  for (const Cell& c : cells) {
    try {
      specs.push_back(models.spec(c.sampler, c.steps, c.shape, warnings));
    } catch (const UsageError& e) {
      const std::string steps = c.steps ? std::to_string(*c.steps) : "default";
      throw UsageError(fmt::format("cell {} {} steps: {}", c.sampler, steps, e.what()));
    }
  }
  return specs;
}

// This shard's cells, each measured and written as it finishes; finished cells of a resumed file
// (ok or failed) are skipped. Stops after an interrupted cell, which is not written.
std::vector<RunResult> run_cells(const std::vector<RunSpec>& specs, const SweepGrid& g, const std::string& grid,
                                 const Report& previous, ModelPool& models, const RunSetup& setup, SweepWriter& writer,
                                 size_t* skipped) {
  std::set<std::string> done;
  for (const auto& r : previous.runs) {
    if (r.value("status", "") != "interrupted") done.insert(cell_key(r["config"]));
  }
  std::vector<RunResult> results;
  const OutputSetup& o = setup.out;
  const std::vector<int> shard = assign_shards(cell_costs(specs, models, setup.quality), g.shard.second);
  const size_t todo = static_cast<size_t>(std::count(shard.begin(), shard.end(), g.shard.first));
  size_t index = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (shard[i] != g.shard.first) continue;
    ++index;
    const RunSpec& spec = specs[i];
    std::string label =
        fmt::format("[{}/{}] {} {} steps {}", index, todo, spec.sampler->name, spec.steps, fmt::join(spec.shape, "x"));
    const Session& session = models.session_for(spec);
    if (done.count(cell_key(run_config_json(spec, session)))) {
      ++*skipped;
      continue;
    }
    RunResult result = run_cell(models.measurer_for(spec), spec, progress_for(o, label));
    clear_progress(o);
    if (result.status == RunStatus::interrupted) break;  // unfinished: not written, --resume reruns it
    nlohmann::json run_json = run_to_json(result, session);
    run_json["sweep"] = {{"grid_sha256", grid}, {"cell", i}, {"cells", specs.size()}};
    writer.add(run_json);
    if (!o.quiet) print_cell(label, result);
    results.push_back(std::move(result));
    if (stop_requested() || !writer.error().empty()) break;  // a failed write: stop, keep what was measured
  }
  return results;
}

void check_quality_baselines(const SweepGrid& g, const RunSetup& setup, const std::vector<RunSpec>& specs) {
  if (!(g.quality_margin >= 0))
    throw UsageError(fmt::format("{} must be >= 0, got {}", setting_name("quality_margin"), g.quality_margin));
  if (!g.quality_baselines.empty() && !setup.quality.fd) {
    throw UsageError(fmt::format("{} compares quality figures: add {} fd", setting_name("quality_baseline"),
                                 setting_name("quality")));
  }
  std::vector<std::string> names;
  for (const RunSpec& spec : specs) names.push_back(fmt::format("{}:{}", spec.sampler->name, spec.steps));
  for (const auto& [sampler, steps] : g.quality_baselines) {
    const std::string name = fmt::format("{}:{}", sampler, steps);
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      throw UsageError(fmt::format("{} {} is not a cell of this sweep ({}); add it with {} {}",
                                   setting_name("quality_baseline"), name, fmt::join(unique(names), ", "),
                                   setting_name("cell"), name));
    }
  }
}

std::vector<CellPair> sweep_quality_pairs(const SweepGrid& g, const RunSetup& setup, ModelPool& models,
                                          const std::vector<RunResult>& results) {
  if (!setup.quality.fd || stop_requested()) return {};
  const QualityRunner& quality = models.main_measurer().quality();
  if (!quality.enabled()) return {};
  try {
    return pair_cells(results, g.quality_baselines, quality.stats(), {g.quality_margin, 0.0});
  } catch (const UsageError& e) {
    std::fprintf(stderr, "warning: %s; only neighbouring step counts are compared\n", e.what());
    return pair_cells(results, {}, quality.stats(), {g.quality_margin, 0.0});
  }
}

}  // namespace diffbench
