#pragma once
/// Sweeps: the grid of cells, their identity (for --resume, merge and compare), shards, and
/// reading result files back.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace diffbench {

/// One point of a sweep grid.
struct Cell {
  std::string sampler;
  int steps = 0;                ///< 0: the sampler's default
  std::vector<int64_t> shape;   ///< empty: the model's default shape
};

/// The cartesian product shape x batch x sampler x steps, in that nesting order (deterministic).
/// An empty `steps` means each sampler's default; a batch replaces B of every shape.
std::vector<Cell> expand_grid(const std::vector<std::string>& samplers, const std::vector<int>& steps,
                              const std::vector<int64_t>& batches, const std::vector<std::vector<int64_t>>& shapes);

/// Shard `index` of `count` takes cells i with i % count == index (0 <= index < count).
bool in_shard(size_t cell_index, int shard_index, int shard_count);

/// "I/N" -> {I, N}; UsageError unless 0 <= I < N.
std::pair<int, int> parse_shard(const std::string& text);

/// What makes two runs "the same measurement": sampler, steps, shape, seed, eta, guidance and the
/// scheduler config of a run's JSON "config" (the model is checked separately).
std::string cell_key(const nlohmann::json& run_config);

/// A result file: a JSON report or JSON lines of reports (one run each).
struct Report {
  std::string path;
  int schema_version = 0;
  nlohmann::json context;            ///< the first document's context
  std::vector<nlohmann::json> runs;  ///< every run, in file order
  bool truncated_tail = false;       ///< a JSONL file whose last line was cut off (a crash mid-write)
};

/// Read a report (JSON or JSONL). RuntimeError naming the file when it cannot be read or parsed.
Report read_report(const std::string& path);

}  // namespace diffbench
