#include "diffbench/measure/run_stats.h"
#include "diffbench/core/statistics.h"

namespace diffbench {

RunStats compute_stats(const RunResult& r) {
  std::vector<double> totals, per_step, model, sampler_time, init, vae, rest, outside, steps_time;
  for (const RepeatResult& rep : r.repeats) {
    const double steps_total = sum(rep.step_s), model_total = sum(rep.model_s);
    totals.push_back(rep.total_s);
    steps_time.push_back(steps_total);
    per_step.push_back(rep.step_s.empty() ? 0.0 : steps_total / double(rep.step_s.size()));
    model.push_back(model_total);
    sampler_time.push_back(steps_total - model_total);
    init.push_back(rep.init_noise_s);
    vae.push_back(rep.vae_s);
    rest.push_back(rep.rest_s);
    outside.push_back(rep.total_s > 0 ? 1.0 - model_total / rep.total_s : 0.0);
  }
  RunStats s;
  s.total = summarize(totals);
  s.step = summarize(per_step);
  s.model = summarize(model);
  s.sampler_time = summarize(sampler_time);
  s.init_noise = summarize(init);
  s.vae = summarize(vae);
  s.rest = summarize(rest);
  s.outside_model_fraction = outside.empty() ? 0.0 : median(outside);
  const double median_steps_time = steps_time.empty() ? 0.0 : median(steps_time);
  if (median_steps_time > 0) s.steps_per_s = double(r.spec.steps) / median_steps_time;
  if (s.total.median > 0 && !r.spec.shape.empty()) s.images_per_s = double(r.spec.shape[0]) / s.total.median;
  return s;
}

}  // namespace diffbench
