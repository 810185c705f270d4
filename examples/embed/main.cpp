// diffbench as a library: the three things the CLI does, through the public API (include/diffbench/app):
// a measurement, sweep cells, and an `ab` decision (here A/A: the same setup on both sides).
//   embed UNET.pt [SAMPLER] [STEPS]
#include <cstdio>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <diffbench/app/ab_inprocess.h>
#include <diffbench/app/model_pool.h>
#include <diffbench/app/settings.h>
#include <diffbench/app/sweep.h>
#include <diffbench/core/parse.h>
#include <diffbench/core/statistics.h>
#include <diffbench/gate/ab_loop.h>

namespace {

// A step count, or a one-line usage error: the library's one reader of whole numbers.
int steps_of(const std::string& text) {
  const std::optional<int64_t> steps = diffbench::parse_positive(text, 100000);
  if (!steps) throw std::invalid_argument("STEPS must be a whole number >= 1, got '" + text + "'");
  return static_cast<int>(*steps);
}

double median_ms(const diffbench::RunResult& result) {
  std::vector<double> totals;
  for (const auto& repeat : result.repeats) totals.push_back(repeat.total_s);
  return totals.empty() ? 0 : 1e3 * diffbench::median(totals);
}

// 1. One measurement: the model opened as the setup asks (its manifest supplies what is not given:
// conditioning, VAE, shape), the spec resolved against it, then timed.
int measure(diffbench::ModelPool& models, const std::string& sampler, int steps) {
  std::vector<std::string> warnings;
  const diffbench::RunSpec spec = models.spec(sampler, steps, {}, &warnings);
  const diffbench::RunResult result = models.measurer_for(spec).measure(spec, {});
  std::printf("%s, %d steps: %s, median %.2f ms per run over %zu repeats\n", spec.sampler->name.c_str(), spec.steps,
              diffbench::status_name(result.status), median_ms(result), result.repeats.size());
  return result.status == diffbench::RunStatus::ok ? 0 : 1;
}

// 2. Sweep cells: a grid (here one sampler at two step counts), every cell resolved before any runs.
int sweep(diffbench::ModelPool& models, const std::string& sampler, int steps) {
  diffbench::SweepGrid grid;
  grid.samplers = {sampler};
  grid.steps = {steps, 2 * steps};
  std::vector<std::string> warnings;
  int failed = 0;
  for (const diffbench::RunSpec& spec : diffbench::grid_specs(grid, models, &warnings)) {
    const diffbench::RunResult result = diffbench::run_cell(models.measurer_for(spec), spec, {});
    std::printf("sweep cell %s %d steps: %s, median %.2f ms\n", spec.sampler->name.c_str(), spec.steps,
                diffbench::status_name(result.status), median_ms(result));
    failed += result.status != diffbench::RunStatus::ok;
  }
  return failed ? 1 : 0;
}

// 3. An ab decision: both sides in this process, blocks A B B A ... until the sequential test
// decides or the budget (10 s) runs out.
int ab(const diffbench::RunSetup& setup) {
  std::string why;
  auto source = diffbench::inprocess_blocks(setup, setup, 0, &why);
  if (!source) throw std::runtime_error(why);
  diffbench::AbPlan plan;
  plan.budget_s = 10;
  diffbench::AbSide base{"base", {}, {}, nullptr}, next{"new", {}, {}, nullptr};
  diffbench::AbResult result;
  const diffbench::AbStop stop = diffbench::run_ab_blocks(*source, plan, base, next, result);
  if (stop.kind != diffbench::AbStop::finished) throw std::runtime_error("ab: " + stop.why);
  std::printf("ab (A/A): %s after %d blocks\n", diffbench::sequential_verdict_name(diffbench::ab_verdict(result)),
              result.blocks);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: embed UNET.pt [SAMPLER] [STEPS]\n");
    return 2;
  }
  try {
    const std::string sampler = argc > 2 ? argv[2] : "ddim";
    const int steps = argc > 3 ? steps_of(argv[3]) : 10;
    diffbench::RunSetup setup;  // what this program asks; the model's manifest and the sampler fill in the rest
    setup.session.unet = argv[1];
    setup.session.default_model = false;
    setup.session.threads = 1;
    setup.sampler = sampler;
    setup.spec.steps = steps;
    setup.spec.warmup = 1;
    setup.spec.repeat = 3;
    setup.out.quiet = true;
    diffbench::ModelPool models(setup, /*samplers_named=*/true);
    if (int code = measure(models, sampler, steps)) return code;
    if (int code = sweep(models, sampler, steps)) return code;
    return ab(setup);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "error: %s; usage: embed UNET.pt [SAMPLER] [STEPS]\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
