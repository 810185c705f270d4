#pragma once
// `diffbench ab`'s sides as words, and the BlockSource (gate/ab_loop.h) that runs each side as a
// process of its own per block: a diffbench binary, this one or another.
#include <memory>
#include <string>
#include <vector>

#include "cli/options.h"
#include "diffbench/gate/ab_loop.h"

namespace diffbench::cli {

/// Both sides' flags as separate words: the shared ones after `--`, then --base-args / --new-args.
struct AbArgs {
  std::vector<std::string> base, next;
};
AbArgs ab_args(const AbOptions& o);

/// Each side a separate process per block (BIN FLAGS --json TMP --quiet).
std::unique_ptr<BlockSource> process_blocks(const AbOptions& o, const AbArgs& args);

}  // namespace diffbench::cli
