// The keys of diffusers' scheduler constructors that diffbench fixes, per sampler: the value(s) its
// implementation equals (diffusers' defaults for the class and options reference.py names).
#include "diffbench/schedule/scheduler_keys.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "diffbench/core/errors.h"

namespace diffbench {
namespace {

using json = nlohmann::json;
using Keys = std::map<std::string, std::vector<std::string>>;  // key -> accepted values as JSON text; "*": any

// thresholding changes results (dynamic clipping of x0); its two parameters act only when it is on.
const Keys kThresholding = {{"thresholding", {"false"}}, {"dynamic_thresholding_ratio", {"*"}},
                            {"sample_max_value", {"*"}}};

Keys with_thresholding(Keys keys) {
  keys.insert(kThresholding.begin(), kThresholding.end());
  return keys;
}

// DPMSolverMultistepScheduler as each DPM-Solver++ sampler runs it.
Keys dpm_solver(const char* order, const char* algorithm) {
  return with_thresholding({{"solver_order", {order}},
                            {"algorithm_type", {algorithm}},
                            {"solver_type", {"\"midpoint\""}},
                            {"lower_order_final", {"true"}},
                            {"euler_at_final", {"false"}},
                            {"use_lu_lambdas", {"false"}},
                            {"final_sigmas_type", {"\"zero\""}},
                            {"lambda_min_clipped", {"null"}},
                            {"variance_type", {"null"}}});
}

// Per sampler (its diffusers class, scripts/diffbench_tools/reference.py); samplers whose class
// takes no key beyond the ones diffbench reads have none.
const std::map<std::string, Keys>& table() {
  static const std::map<std::string, Keys> t = {
      {"ddpm", with_thresholding({{"variance_type", {"\"fixed_small\"", "null"}}})},
      {"ddim", kThresholding},
      {"dpmpp_2m", dpm_solver("2", "\"dpmsolver++\"")},
      {"dpmpp_2m_sde", dpm_solver("2", "\"sde-dpmsolver++\"")},
      {"dpmpp_3m_sde", dpm_solver("3", "\"sde-dpmsolver++\"")},
      {"euler",
       {{"interpolation_type", {"\"linear\""}},
        {"sigma_min", {"null"}},
        {"sigma_max", {"null"}},
        {"timestep_type", {"\"discrete\""}},
        {"final_sigmas_type", {"\"zero\""}}}},
      {"unipc", with_thresholding({{"solver_order", {"2"}},
                                   {"predict_x0", {"true"}},
                                   {"solver_type", {"\"bh2\""}},
                                   {"lower_order_final", {"true"}},
                                   {"disable_corrector", {"[]"}},
                                   {"solver_p", {"null"}},
                                   {"final_sigmas_type", {"\"zero\""}},
                                   {"sigma_min", {"null"}},
                                   {"sigma_max", {"null"}}})},
      {"deis", with_thresholding({{"solver_order", {"2"}},
                                  {"algorithm_type", {"\"deis\""}},
                                  {"solver_type", {"\"logrho\""}},
                                  {"lower_order_final", {"true"}}})},
      {"lcm", kThresholding},
  };
  return t;
}

}  // namespace

const std::vector<std::string>& class_only_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> out = {"skip_prk_steps", "beta_sigmas", "sigma_data", "rho", "s_noise",
                                    "s_churn",        "s_tmin",      "s_tmax"};  // classes diffbench maps none to
    for (const auto& [sampler, keys] : table()) {
      for (const auto& [key, accepted] : keys) {
        if (std::find(out.begin(), out.end(), key) == out.end()) out.push_back(key);
      }
    }
    return out;
  }();
  return keys;
}

void check_class_keys(const std::string& sampler, const SchedulerConfig& config) {
  const auto found = table().find(sampler);
  if (found == table().end()) return;
  for (const auto& [key, text] : config.class_keys) {
    const auto rule = found->second.find(key);
    if (rule == found->second.end() || rule->second.front() == "*") continue;
    const json value = json::parse(text);
    bool ok = false;
    for (const auto& accepted : rule->second) ok = ok || value == json::parse(accepted);
    if (!ok) {
      throw UsageError(fmt::format("scheduler config key {}={} is not implemented by {}: it runs {}={}, as its "
                                   "diffusers scheduler does by default; remove the key or pick another sampler",
                                   key, text, sampler, key, rule->second.front()));
    }
  }
}

json class_keys_json(const std::string& sampler) {
  json out = json::object();
  const auto found = table().find(sampler);
  if (found == table().end()) return out;
  for (const auto& [key, accepted] : found->second) {
    json values = json::array();
    for (const auto& a : accepted) values.push_back(a == "*" ? json("*") : json::parse(a));
    out[key] = values;
  }
  return out;
}

}  // namespace diffbench
