// Samplers against closed-form answers for Gaussian data x0 ~ N(mu, s^2): deterministic
// samplers converge to the probability-flow ODE solution at their order; stochastic ones
// reproduce the exact mean and variance of their chain (a scalar recursion in float64 from
// the papers' update equations) within sampling error, and approach the data's.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "diffbench/samplers/registry.h"
#include "diffbench/schedule/schedule.h"
#include "gaussian.h"

using namespace diffbench;
using diffbench::testing::Gaussian;

namespace {

struct Sampled {
  at::Tensor x_init, x_final;
  Plan plan;
};

Sampled run(const std::string& name, int steps, const std::vector<int64_t>& shape, uint64_t seed = 0,
            SchedulerConfig config = {}, double eta = 0.0) {
  const SamplerInfo& s = find_sampler(name);
  NoiseSchedule schedule(config);
  Sampled r;
  r.plan = s.plan(schedule, config, steps);
  Gaussian g;
  ModelFn model = g.model_for_plan(r.plan, config.prediction_type, nullptr);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  r.x_init = at::randn(shape, gen) * float(r.plan.init_noise_sigma);
  std::vector<at::Tensor> ts = timestep_tensors(r.plan, c10::Device(c10::kCPU));
  SampleArgs args{schedule, config, r.plan, model, gen, eta, ts, nullptr};
  r.x_final = s.sample(args, r.x_init.clone());
  return r;
}

// Max error against the exact answer. Latents are VP-scaled (x = y / sqrt(1 + sigma^2)) for
// ddim/dpmpp_2m and VE (x = y) for euler and heun. Samplers whose last sigma is 0 end with the exact
// denoiser at the last nonzero sigma (diffusers' final step returns the x0 prediction).
double error_vs_exact(const std::string& name, int steps, SchedulerConfig config = {}) {
  Sampled r = run(name, steps, {1, 4, 16, 16}, 5, config);
  Gaussian g;
  const bool ve = name == "euler" || name == "heun";
  double s0 = r.plan.sigmas.front();
  at::Tensor y = ve ? r.x_init.to(at::kDouble) : r.x_init.to(at::kDouble) * std::sqrt(1 + s0 * s0);
  at::Tensor exact;
  if (name == "ddim" || name == "deis") {  // both end at alphas_cumprod[0], not at sigma 0
    double a_end = NoiseSchedule(config).alphas_cumprod()[0];  // set_alpha_to_one false
    exact = g.flow(y, s0, std::sqrt((1 - a_end) / a_end)) * std::sqrt(a_end);
  } else {
    double s_last = r.plan.sigmas[r.plan.steps() - 1];
    exact = g.denoise(g.flow(y, s0, s_last), s_last);
  }
  return (r.x_final.to(at::kDouble) - exact).abs().max().item<double>();
}

// Error ratios when steps double from 20 to 40 to 80 must lie in (low, high).
void expect_order(const std::string& name, double low, double high, SchedulerConfig config = {}) {
  double previous = error_vs_exact(name, 20, config);
  for (int steps : {40, 80}) {
    double e = error_vs_exact(name, steps, config);
    EXPECT_GT(previous / e, low) << name << " at " << steps << " steps: error " << e << ", before " << previous;
    EXPECT_LT(previous / e, high) << name << " at " << steps << " steps: error " << e << ", before " << previous;
    previous = e;
  }
}

// The flow samplers on the flow path x = (1 - sigma) x0 + sigma noise end with an Euler step to
// sigma 0, which returns the exact x0 prediction at the last nonzero sigma: the exact answer is
// E[x0 | x] at the flow ODE's solution there.
double flow_error_vs_exact(const std::string& name, int steps, double shift = 1.0) {
  SchedulerConfig config;
  config.prediction_type = PredictionType::flow_prediction;
  config.shift = shift;
  Sampled r = run(name, steps, {1, 4, 16, 16}, 5, config);
  Gaussian g;
  const double s_last = r.plan.sigmas[r.plan.steps() - 1];
  at::Tensor there = g.flow_path(r.x_init.to(at::kDouble), r.plan.sigmas.front(), s_last);
  at::Tensor exact = g.flow_output(there, s_last, PredictionType::sample);
  return (r.x_final.to(at::kDouble) - exact).abs().max().item<double>();
}

void expect_flow_order(const std::string& name, double low, double high, double shift, int from = 20) {
  double previous = flow_error_vs_exact(name, from, shift);
  for (int steps : {2 * from, 4 * from}) {
    double e = flow_error_vs_exact(name, steps, shift);
    EXPECT_GT(previous / e, low) << name << " at " << steps << " steps: error " << e << ", before " << previous;
    EXPECT_LT(previous / e, high) << name << " at " << steps << " steps: error " << e << ", before " << previous;
    previous = e;
  }
}

SchedulerConfig karras() {
  SchedulerConfig c;
  c.use_karras_sigmas = true;
  return c;
}

// Exact mean and variance of a sampler's output: every update is affine in (x, mu, fresh noise).
struct ChainMoments {
  double mean, var;
};

ChainMoments chain_moments(const std::string& name, const Plan& plan, const NoiseSchedule& schedule, double eta = 0) {
  Gaussian g;
  const double mu = g.mu, s2 = g.s * g.s;
  double m = 0, v = plan.init_noise_sigma * plan.init_noise_sigma;
  const int n = plan.steps();
  auto alpha = [&](double t) { return double(schedule.alphas_cumprod()[int(t)]); };
  for (int i = 0; i < n; ++i) {
    double t = plan.timesteps[i];
    if (name == "euler_a") {  // VE: y' = y + (y - D)(sd - s)/s + su z, D = mu + k (y - mu)
      double s = plan.sigmas[i], next = plan.sigmas[i + 1];
      double su = std::sqrt(next * next * (s * s - next * next) / (s * s)), sd = std::sqrt(next * next - su * su);
      double k = s2 / (s2 + s * s), c = 1 + (1 - k) * (sd - s) / s;  // y' - mu = c (y - mu) + su z
      m = mu + c * (m - mu);
      v = c * c * v + su * su;
      continue;
    }
    // VP: x0_hat = mu + gain (x - sqrt(a) mu), eps_hat = (x - sqrt(a) x0_hat) / sqrt(1 - a)
    double a = alpha(t), gain = std::sqrt(a) * s2 / (a * s2 + 1 - a);
    double cx, cmu, noise_var;  // x' = cx x + cmu mu + noise
    if (name == "ddpm") {
      double ap = i + 1 < n ? alpha(plan.timesteps[i + 1]) : 1.0;
      double step_beta = 1 - a / ap, c0 = std::sqrt(ap) * step_beta / (1 - a),
             cs = std::sqrt(a / ap) * (1 - ap) / (1 - a);
      cx = c0 * gain + cs;
      cmu = c0 * (1 - gain * std::sqrt(a));
      noise_var = t > 0 ? (1 - ap) / (1 - a) * step_beta : 0.0;
    } else {  // ddim with eta: x' = sqrt(ap) x0 + sqrt(1 - ap - sd^2) eps + sd z
      int prev = int(t) - schedule.size() / n;
      double ap = prev >= 0 ? alpha(prev) : alpha(0);
      double sd = eta * std::sqrt((1 - ap) / (1 - a) * (1 - a / ap)),
             ce = std::sqrt(1 - ap - sd * sd) / std::sqrt(1 - a);
      cx = std::sqrt(ap) * gain + ce * (1 - std::sqrt(a) * gain);
      cmu = (std::sqrt(ap) - ce * std::sqrt(a)) * (1 - gain * std::sqrt(a));
      noise_var = sd * sd;
    }
    m = cx * m + cmu * mu;
    v = cx * cx * v + noise_var;
  }
  return {m, v};
}

// Sample moments within 4 standard errors of the chain's exact moments.
void expect_chain_moments(const std::string& name, int steps, double eta = 0) {
  Sampled r = run(name, steps, {64, 4, 32, 32}, 2, {}, eta);
  ChainMoments exact = chain_moments(name, r.plan, NoiseSchedule(SchedulerConfig{}), eta);
  double n = double(r.x_final.numel());
  double mean = r.x_final.mean().item<double>(), var = r.x_final.var().item<double>();
  EXPECT_NEAR(mean, exact.mean, 4 * std::sqrt(exact.var / n)) << name << " " << steps;
  EXPECT_NEAR(var, exact.var, 4 * exact.var * std::sqrt(2 / (n - 1))) << name << " " << steps;
}

}  // namespace

TEST(Gaussian, DdimIsFirstOrder) { expect_order("ddim", 1.7, 2.4); }
TEST(Gaussian, EulerIsFirstOrder) { expect_order("euler", 1.7, 2.4); }
TEST(Gaussian, EulerKarrasIsFirstOrder) { expect_order("euler", 1.7, 2.4, karras()); }
TEST(Gaussian, DpmSolverPlusPlus2MIsSecondOrder) { expect_order("dpmpp_2m", 3.3, 5.0, karras()); }
TEST(Gaussian, HeunIsSecondOrder) { expect_order("heun", 3.3, 5.0, karras()); }

TEST(Gaussian, FlowEulerIsFirstOrder) {
  expect_flow_order("flow_euler", 1.7, 2.4, 1.0);
  expect_flow_order("flow_euler", 1.7, 2.4, 3.0);  // SD3's shift
}
TEST(Gaussian, FlowHeunIsSecondOrder) {
  expect_flow_order("flow_heun", 3.3, 5.0, 1.0);
  // SD3's shift: 6.5, 5.8, 5.0 from 20 to 160 steps, reaching 4 from above (docs/samplers.md)
  expect_flow_order("flow_heun", 3.3, 6.0, 3.0, 40);
}
TEST(Gaussian, UniPcConvergesAtThirdOrderOnKarrasSigmasAndSecondOnFlowSigmas) {
  // UniC adds an order (Zhao et al. 2023): 9.0, 8.5 on Karras; 3.8, 4.2 on flow sigmas (docs/samplers.md)
  expect_order("unipc", 6.5, 10.0, karras());
  expect_flow_order("unipc", 3.3, 5.0, 1.0);  // prediction_type flow_prediction
}
TEST(Gaussian, DeisIsSecondOrder) { expect_order("deis", 3.3, 5.0, karras()); }  // measured 4.3, 4.1

TEST(Gaussian, FlowSamplersApproachTheExactAnswer) {
  EXPECT_LT(flow_error_vs_exact("flow_euler", 320), 0.01);
  EXPECT_LT(flow_error_vs_exact("flow_heun", 80, 3.0), 2e-4);
}

TEST(Gaussian, DeterministicSamplersApproachTheExactAnswer) {
  EXPECT_LT(error_vs_exact("ddim", 320), 0.02);
  EXPECT_LT(error_vs_exact("euler", 320), 0.02);
  EXPECT_LT(error_vs_exact("dpmpp_2m", 80, karras()), 2e-3);  // outputs are O(1.5)
  EXPECT_LT(error_vs_exact("heun", 80, karras()), 2e-3);
}

TEST(Gaussian, StochasticSamplersReproduceTheirExactChainMoments) {
  expect_chain_moments("ddpm", 10);
  expect_chain_moments("ddpm", 1000);
  expect_chain_moments("euler_a", 25);
  expect_chain_moments("ddim", 50, 1.0);
}

TEST(Gaussian, AncestralChainsApproachTheDataDistribution) {
  Gaussian g;
  NoiseSchedule schedule{SchedulerConfig{}};
  for (auto [name, steps] : std::vector<std::pair<std::string, int>>{{"ddpm", 1000}, {"euler_a", 1000}}) {
    Plan plan = find_sampler(name).plan(schedule, SchedulerConfig{}, steps);
    ChainMoments m = chain_moments(name, plan, schedule);
    EXPECT_NEAR(m.mean, g.mu, 0.002) << name;
    EXPECT_NEAR(m.var, g.s * g.s, 0.03 * g.s * g.s) << name;
  }
}

TEST(Gaussian, DpmSolverPlusPlus2MSdeSamplesTheDataDistribution) {
  // A stochastic solver of the diffusion SDE: its samples of N(mu, s^2) have mean mu and variance
  // s^2 up to 4 standard errors and a discretisation error that shrinks with the steps (measured:
  // variance 4.2% high at 25 Karras steps, within 2% at 100).
  Gaussian g;
  std::vector<double> var_error;
  for (int steps : {25, 100}) {
    Sampled r = run("dpmpp_2m_sde", steps, {64, 4, 32, 32}, 3, karras());
    const double n = double(r.x_final.numel()), v = g.s * g.s, se = 4 * v * std::sqrt(2 / (n - 1));
    EXPECT_NEAR(r.x_final.mean().item<double>(), g.mu, 4 * std::sqrt(v / n) + 0.02 * g.s) << steps;
    var_error.push_back(std::abs(r.x_final.var().item<double>() - v));
    EXPECT_LT(var_error.back(), se + (steps == 25 ? 0.06 : 0.02) * v) << steps;
  }
  EXPECT_LT(var_error[1], var_error[0]);
}

TEST(Gaussian, DpmSolverPlusPlus3MSdeConvergesToTheDataDistribution) {
  // Mean within 4 standard errors; variance 18.6% high at 25 Karras steps (2M SDE: 4.2%), 3.0% at
  // 100: the second difference of noisy x0 predictions amplifies the noise (docs/samplers.md).
  Gaussian g;
  const double v = g.s * g.s;
  std::vector<double> var_error;
  for (int steps : {25, 100}) {
    Sampled r = run("dpmpp_3m_sde", steps, {64, 4, 32, 32}, 3, karras());
    const double n = double(r.x_final.numel()), se = 4 * v * std::sqrt(2 / (n - 1));
    EXPECT_NEAR(r.x_final.mean().item<double>(), g.mu, 4 * std::sqrt(v / n) + 0.02 * g.s) << steps;
    var_error.push_back(std::abs(r.x_final.var().item<double>() - v));
    EXPECT_LT(var_error.back(), se + (steps == 25 ? 0.22 : 0.04) * v) << steps;
  }
  EXPECT_LT(var_error[1], var_error[0] / 4);
}

TEST(Gaussian, TurboOneStepIsTheExactDenoiserOfItsInitialNoise) {
  Sampled r = run("turbo", 1, {1, 4, 8, 8}, 9);
  Gaussian g;
  at::Tensor exact = g.denoise(r.x_init.to(at::kDouble), r.plan.sigmas[0]);
  EXPECT_LT((r.x_final.to(at::kDouble) - exact).abs().max().item<double>(), 1e-5);
}

TEST(Gaussian, ConsistencySamplersAreUnbiased) {
  Gaussian g;
  for (auto [name, steps] : std::vector<std::pair<std::string, int>>{{"lcm", 4}, {"turbo", 4}}) {
    Sampled r = run(name, steps, {64, 4, 32, 32}, 3);
    double n = double(r.x_final.numel());
    EXPECT_NEAR(r.x_final.mean().item<double>(), g.mu, 4 * g.s / std::sqrt(n)) << name;
    // An exact *denoiser* is not a consistency model: outputs are posterior means, less spread than the data.
    double var = r.x_final.var().item<double>();
    EXPECT_GT(var, 0.0) << name;
    EXPECT_LT(var, g.s * g.s) << name;
  }
}

TEST(Gaussian, ReferenceRmseAndPsnrAtTheCliAreTheClosedFormOnes) {
  // Issue #28: --reference's RMSE/PSNR against a known non-zero value. On models/gaussian.pt (the
  // exact denoiser of N(0.5, 0.5^2)), one trailing DDIM step and one Turbo step from the same seed
  // share x0_hat and eps_hat at t = 999; Turbo ends at x0_hat, DDIM at sqrt(a0) x0_hat +
  // sqrt(1 - a0) eps_hat (a0 = alphas_cumprod[0]), so the difference is known exactly.
  const std::string dir = "/tmp/diffbench_test_" + std::to_string(getpid()) + "_reference_closed_form";
  std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str());
  const std::string cmd = std::string(DIFFBENCH_BIN) +
                          " --unet " DIFFBENCH_SOURCE_DIR
                          "/models/gaussian.pt --warmup 0 --repeat 1 --threads 1 -q --shape 1,4,8,8 --seed 9 "
                          "--sampler ddim --steps 1 --timestep-spacing trailing --reference turbo:1 --json " +
                          dir + "/r.json > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(dir + "/r.json");
  const auto q = nlohmann::json::parse(in)["runs"][0]["quality"]["latents"];
  const NoiseSchedule schedule{SchedulerConfig{}};
  const double a = schedule.alphas_cumprod()[999], a0 = schedule.alphas_cumprod()[0];
  Gaussian g;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(9);
  at::Tensor z = at::randn({1, 4, 8, 8}, gen).to(at::kDouble);  // both runs' initial noise before scaling
  at::Tensor eps = std::sqrt(1 - a) * (z - std::sqrt(a) * g.mu) / (a * g.s * g.s + 1 - a);
  at::Tensor x0 = (z - std::sqrt(1 - a) * eps) / std::sqrt(a);
  at::Tensor ddim = std::sqrt(a0) * x0 + std::sqrt(1 - a0) * eps;
  const double rmse = (ddim - x0).pow(2).mean().sqrt().item<double>();
  const double peak = (x0.max() - x0.min()).item<double>();
  ASSERT_GT(rmse, 1e-3);  // a real difference, not the zero a broken reference would also give
  // The samplers run in float32: Turbo's x0 = x - sigma eps from x = 14.6 z carries about 1e-4 of
  // rounding (measured), 0.14% of this RMSE. A wrong reference (itself: 0; the initial noise: ~1)
  // is off by orders of magnitude, so the tolerances are set from the rounding, not from zero.
  EXPECT_NEAR(q["rmse"].get<double>(), rmse, 5e-3 * rmse);
  EXPECT_NEAR(q["psnr_db"].get<double>(), 20 * std::log10(peak / rmse), 0.05);
  EXPECT_NEAR(q["max_abs"].get<double>(), (ddim - x0).abs().max().item<double>(), 3e-4);
}
