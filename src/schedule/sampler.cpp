// What every sampler shares: stochasticity, model evaluations, the timestep tensors.
#include "diffbench/schedule/sampler.h"

#include <ATen/ATen.h>

namespace diffbench {

bool is_stochastic(const SamplerInfo& sampler, double eta) {
  return sampler.stochastic || (sampler.uses_eta && eta > 0);
}

int model_evaluations(const SamplerInfo& sampler, int steps) {
  return sampler.evaluations ? sampler.evaluations(steps) : steps;
}

std::vector<at::Tensor> timestep_tensors(const Plan& plan, c10::Device device) {
  std::vector<at::Tensor> tensors;
  for (double t : plan.timesteps) {
    tensors.push_back(plan.integer_timesteps ? at::scalar_tensor(static_cast<int64_t>(t), at::kLong).to(device)
                                             : at::scalar_tensor(t, at::kFloat).to(device));
  }
  return tensors;
}

at::Tensor SampleArgs::noise_like(const at::Tensor& like) const {
  at::Tensor noise = at::randn(like.sizes(), generator, at::TensorOptions().dtype(at::kFloat));
  return like.device().is_cpu() ? noise : noise.to(like.device());
}

}  // namespace diffbench
