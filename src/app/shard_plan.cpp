// Splitting a sweep across shards by estimated work, and --shard-plan.
#include "diffbench/app/shard_plan.h"

#include <algorithm>
#include <cstdio>

#include "diffbench/core/errors.h"
#include "diffbench/schedule/sampler.h"
#include "diffbench/samplers/registry.h"
#include "diffbench/plans/sweep.h"
#include "diffbench/measure/resolve.h"

namespace diffbench {

std::vector<double> cell_costs(const std::vector<RunSpec>& specs, ModelPool& models, const QualitySetup& q) {
  std::vector<double> costs;
  for (const RunSpec& spec : specs) {
    const bool guided = uses_guidance(models.session_for(spec), spec);
    costs.push_back(cell_cost(model_evaluations(*spec.sampler, spec.steps), spec.shape,
                              spec.warmup + spec.repeat, guided, q.fd ? q.samples : 0));
  }
  return costs;
}

int print_shard_plan(const std::vector<RunSpec>& specs, ModelPool& models, const QualitySetup& q, int count) {
  const std::vector<double> costs = cell_costs(specs, models, q);
  const std::vector<int> plan = assign_shards(costs, count);
  double total = 0;
  for (double c : costs) total += c;
  std::vector<double> load(static_cast<size_t>(count), 0.0);
  for (size_t i = 0; i < specs.size(); ++i) load[static_cast<size_t>(plan[i])] += costs[i];
  for (int k = 0; k < count; ++k) {
    std::printf("shard %d/%d: %5.1f%% of the estimated work:", k, count, 100 * load[static_cast<size_t>(k)] / total);
    for (size_t i = 0; i < specs.size(); ++i) {
      if (plan[i] == k) std::printf(" [%zu] %s:%d", i, specs[i].sampler->name.c_str(), specs[i].steps);
    }
    std::printf("\n");
  }
  const double longest = *std::max_element(load.begin(), load.end());
  std::printf("longest shard: %.1f%% of the work (an even split: %.1f%%); at best %.2fx faster than one shard\n",
              100 * longest / total, 100.0 / count, total / longest);
  return kExitOk;
}

}  // namespace diffbench
