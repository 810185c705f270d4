#pragma once
/// Sweeps: the grid of cells, their identity (for --resume, merge and compare), shards, and
/// reading result files back.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "diffbench/plans/recorded_run.h"

namespace diffbench {

/// One point of a sweep grid.
struct Cell {
  std::string sampler;
  std::optional<int> steps;  ///< unset: the sampler's default
  std::vector<int64_t> shape;  ///< empty: the model's default shape; one value: the batch alone
};

/// The most cells one sweep plans (a grid's cells are measured one by one: 100,000 is days of work).
inline constexpr int kMaxGridCells = 100000;

/// The cartesian product shape x batch x sampler x steps, in that nesting order (deterministic);
/// UsageError beyond kMaxGridCells.
/// An empty `steps` means each sampler's default; a batch replaces B of every shape.
std::vector<Cell> expand_grid(const std::vector<std::string>& samplers, const std::vector<int>& steps,
                              const std::vector<int64_t>& batches, const std::vector<std::vector<int64_t>>& shapes);

/// A cell's estimated work in model-input elements: model evaluations x batch x C x H x W over its
/// counted and warm-up repeats (`evaluations`: model_evaluations(sampler, steps), Heun's 2 x steps
/// - 1; guidance doubles the batch), plus its --quality fd images. Only ratios matter: shards are
/// balanced on it.
double cell_cost(int evaluations, const std::vector<int64_t>& shape, int repeats, bool guided, int64_t fd_samples);

/// Which shard runs each cell, from their costs: longest first (the lower index on ties), each to
/// the shard with the least estimated work so far (the lower shard on ties). The same on every
/// shard, so N processes given the same grid split it without talking to each other; no shard
/// waits long on one straggler unless a single cell is larger than the rest together.
std::vector<int> assign_shards(const std::vector<double>& costs, int shard_count);

/// "I/N" -> {I, N}; UsageError unless 0 <= I < N.
std::pair<int, int> parse_shard(const std::string& text);

/// Groups of run-config fields that `compare --ignore` may leave out of a cell's identity.
/// "model": unet_sha256, vae_sha256; "cond": the conditioning; "dtype", "device", "threads", "shape", "steps".
const std::vector<std::string>& ignorable_key_groups();

/// The group a config field (dotted name, e.g. "cond.sha256") belongs to, or "" when none.
std::string ignorable_group_of(const std::string& field);

/// What makes two runs "the same measurement": every field of a run's JSON "config" that changes
/// the measured work (sampler, steps, shape, seed, eta, guidance, scheduler config, UNet and VAE
/// sha256, conditioning, dtype, device, threads), but not file paths, warm-up or repeat counts.
/// Groups named in `ignore` (see ignorable_key_groups) are left out.
std::string cell_key(const nlohmann::json& run_config, const std::vector<std::string>& ignore = {});

/// The fields of two run configs that differ (dotted names, e.g. "threads", "unet_sha256").
std::vector<std::string> config_differences(const nlohmann::json& a, const nlohmann::json& b);

/// A result file: a JSON report or JSON lines of reports (one run each).
struct Report {
  std::string path;
  int schema_version = 0;
  nlohmann::json context;  ///< the first document's context
  std::vector<nlohmann::json> runs;  ///< every run, in file order, as written (merge and --resume copy them)
  std::vector<RecordedRun> recorded;  ///< the same runs typed (compare, history read these)
  bool truncated_tail = false;  ///< a JSONL file whose last line was cut off (a crash mid-write)
  int truncated_line = 0;  ///< that line's number (1-based), when truncated_tail
  size_t valid_bytes = 0;  ///< length of the file up to the cut-off line (all of it otherwise)

  /// Append `run` in both forms; RuntimeError naming `where` and the field when it cannot be typed.
  void add_run(nlohmann::json run, const std::string& where);
};

/// Read a report (JSON or JSONL). RuntimeError naming the file when it cannot be read or parsed.
Report read_report(const std::string& path);

/// The report one parsed JSON document holds (read_report for a file already parsed; valid_bytes
/// stays 0). RuntimeError naming `path` when it is not a diffbench report.
Report report_from_document(const nlohmann::json& doc, const std::string& path);

}  // namespace diffbench
