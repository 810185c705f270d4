#pragma once
// `ab`'s checks: its options before any work, and each block's runs before they count.
#include <string>
#include <vector>

#include "cli/options.h"
#include "cli/run_setup.h"

namespace diffbench::cli {

/// Every refusal of `ab`'s options (UsageError), before anything runs.
void check_ab_options(const AbOptions& o);

/// One side's run flags (`words`), parsed and typed as `diffbench` itself parses them; UsageError
/// for a flag ab cannot honour per block (files written, extra measurements).
RunSetup parse_side(const std::vector<std::string>& words, const std::string& side);

}  // namespace diffbench::cli
