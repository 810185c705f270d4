#pragma once
// `ab`'s blocks with both sides in this process (a BlockSource for run_ab_blocks, gate/ab_loop.h).
#include <memory>
#include <string>

#include "diffbench/app/settings.h"
#include "diffbench/gate/ab_loop.h"

namespace diffbench {

/// Both sides in this process, each as its RunSetup asks (measured quietly, no outputs), their
/// models loaded again every `reload` blocks (0: once); nullptr (and `*why`) when the sides cannot
/// share a process (different threads, interop threads, device, pinning or heap: settings of the
/// process).
std::unique_ptr<BlockSource> inprocess_blocks(const RunSetup& base, const RunSetup& next, int reload,
                                              std::string* why);

}  // namespace diffbench
