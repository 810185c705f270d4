#pragma once
// `diffbench ab`'s blocks with both sides in this process.
#include <memory>
#include <string>

#include "cli/ab_processes.h"

namespace diffbench::cli {

/// Both sides in this process, their models loaded again every `reload` blocks (0: once);
/// nullptr (and `*why`) when the sides cannot share a process (different threads, interop threads,
/// device or --pin: settings of the process).
std::unique_ptr<BlockSource> inprocess_blocks(const AbArgs& args, int reload, std::string* why);

}  // namespace diffbench::cli
