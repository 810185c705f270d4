#pragma once
// The series `diffbench history` tests: one per cell, a point per report in commit order, read
// from run reports (seconds) or from `ab --json` reports (new/base ratios).
#include <string>
#include <vector>

#include "diffbench/gate/change_points.h"

namespace diffbench {

struct Series {
  std::string label;
  bool ratio = false;  ///< points are ab's new/base ratios (else seconds)
  std::vector<double> values;  ///< one point per report: the run's median total_s, or 1 + ab's change
  std::vector<std::string> source;  ///< "file" or "file#k" for each point
  std::vector<ChangePoint> points;
  bool newest_step = false;  ///< the newest point starts a slowdown
  ChangePoint newest;
};

/// The files of `inputs` in order (a directory: its .json/.jsonl files by name).
std::vector<std::string> history_files(const std::vector<std::string>& inputs);

/// Every cell's series over `files`, all run reports or all ab reports (UsageError when mixed,
/// RuntimeError naming the file when one is cut off or malformed).
std::vector<Series> read_history(const std::vector<std::string>& files, const std::vector<std::string>& ignore);

}  // namespace diffbench
