#pragma once
// Grid files (configs/sweeps/*.json) as `sweep` flags.
#include <string>
#include <vector>

namespace diffbench::cli {

/// A grid file's keys as command-line words ({"steps": [1, 2]} -> --steps 1,2), for `sweep`.
/// UsageError naming the file and key for an unknown key (with a suggestion), and the line and
/// column of a JSON syntax error. `valid_flags`: sweep's long flags ("--steps", ...).
std::vector<std::string> grid_to_args(const std::string& path, const std::vector<std::string>& valid_flags,
                                      const std::vector<std::string>& switches);

}  // namespace diffbench::cli
