// `ab`'s checks: its options before any work, and each block's runs before they count.
#include "cli/ab_checks.h"

#include <algorithm>

#include <fmt/format.h>

#include "cli/gate.h"
#include "cli/run_setup.h"
#include "cli/common_options.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/files.h"
#include "diffbench/gate/sequential.h"

namespace diffbench::cli {

void check_ab_options(const AbOptions& o) {
  check_gate_options(o.gate);
  const bool sides = !o.base_bin.empty() || !o.new_bin.empty() || !o.base_args.empty() || !o.new_args.empty();
  // A run names what it times by a sampler, or by a model (one named alone runs its manifest's sampler).
  const bool named = std::any_of(o.args.begin(), o.args.end(), [](const std::string& a) {
    for (const char* flag : {"--sampler", "--unet", "--model"})
      if (a == flag || a.rfind(std::string(flag) + "=", 0) == 0) return true;
    return false;
  });
  if (!sides && !named) {
    throw UsageError(
        "ab needs what to compare: two sides (--base-bin/--new-bin or --base-args/--new-args) or a run to time "
        "against itself (ab -- --sampler ddim --steps 20); with neither it would time all six lecture samplers, "
        "DDPM's 1000 steps included");
  }
  if (!(o.budget > 0)) throw UsageError("--budget must be > 0 (seconds)");
  if (o.max_blocks < smallest_first_look(o.gate.alpha)) {
    throw UsageError(fmt::format("--max-blocks {}: fewer than {} blocks can never reach alpha {} at the first look",
                                 o.max_blocks, smallest_first_look(o.gate.alpha), o.gate.alpha));
  }
  if (o.warmup_blocks < 0) throw UsageError("--warmup-blocks must be >= 0");
  if (o.reload_blocks < 0) throw UsageError("--reload-blocks must be >= 0 (0: load once)");
  for (const auto& [flag, path] : {std::pair{"--save-base", o.save_base}, std::pair{"--save-new", o.save_new}}) {
    if (!path.empty()) check_writable(path, flag);
  }
  check_distinct_outputs({{"--save-base", o.save_base},
                          {"--save-new", o.save_new},
                          {"--json", o.gate.json},
                          {"--markdown", o.gate.markdown}});
  for (const auto& a : o.args) {
    if (a == "--json" || a == "--csv" || a == "--markdown" || a.rfind("--json=", 0) == 0) {
      throw UsageError(fmt::format(
          "ab writes each side's report itself; drop {} from the run's flags (use --save-base / --save-new)", a));
    }
  }
}

// The run's flags of one side, parsed and typed as `diffbench` itself parses them.
RunSetup parse_side(const std::vector<std::string>& words, const std::string& side) {
  CLI::App app;
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  RunOptions o;
  add_run_options(app, o);
  std::vector<std::string> args(words.rbegin(), words.rend());
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    throw UsageError(fmt::format("ab: the {} side's run flags: {}", side, e.what()));
  }
  // A file written or an extra measurement per block would be timed with the side or repeated
  // hundreds of times: ab measures time, and `run` does the rest.
  const std::pair<const char*, bool> extras[] = {{"--save-latents", !o.save_latents.empty()},
                                                 {"--save-images", !o.save_images.empty()},
                                                 {"--profile", !o.profile.empty()},
                                                 {"--quality", !o.quality.empty()},
                                                 {"--reference", !o.reference.empty()}};
  for (const auto& [flag, given] : extras) {
    if (given) throw UsageError(fmt::format("ab measures time only; drop {} from the run's flags (use run)", flag));
  }
  return parse_run_setup(o);
}

}  // namespace diffbench::cli
