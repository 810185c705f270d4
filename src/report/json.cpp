// The JSON document (docs/json-schema.md, docs/diffbench.schema.json).
#include <numeric>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "diffbench/core/npy.h"
#include "diffbench/core/sha256.h"
#include "diffbench/report/environment.h"
#include "diffbench/report/json.h"
#include "diffbench/measure/run_stats.h"
#include "diffbench/schedule/sampler.h"
#include "diffbench/samplers/registry.h"
#include "diffbench/core/statistics.h"
#include "diffbench/measure/session.h"

namespace diffbench {
namespace {

nlohmann::json summary_json(const Summary& s) {
  return {{"n", s.n},
          {"mean", s.mean},
          {"median", s.median},
          {"stddev", s.stddev},
          {"min", s.min},
          {"max", s.max},
          {"q1", s.q1},
          {"q3", s.q3},
          {"iqr", s.iqr},
          {"cv", s.cv},
          {"ci_low", s.ci_low},
          {"ci_high", s.ci_high},
          {"ci_level", s.ci_level},
          {"noisy", s.noisy},
          {"samples", s.samples}};
}

// What the UNet was conditioned on: where it came from, its shape and content hash.
nlohmann::json cond_json(const Session& session) {
  if (!session.cond.defined()) return nullptr;
  auto hash = [](const at::Tensor& t) { return sha256_hex(to_npy(t.to(at::kFloat).contiguous())); };
  nlohmann::json j = {
      {"source", session.cond_source}, {"shape", session.cond.sizes().vec()}, {"sha256", hash(session.cond)}};
  if (session.uncond.defined()) {
    j["uncond_source"] = session.uncond_source;
    j["uncond_sha256"] = hash(session.uncond);
  } else {
    j["uncond_source"] = "zeros";
  }
  return j;
}

}  // namespace

nlohmann::json optional_json(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json contention_json(const Contention& c) {
  return {{"suspect", c.suspect},
          {"why", c.why},
          {"wall_s", c.wall_s},
          {"run_queue_wait_s", optional_json(c.run_queue_wait_s)},
          {"wait_fraction", optional_json(c.wait_fraction)},
          {"cpu_per_wall", c.cpu_per_wall},
          {"threads", c.threads},
          {"involuntary_switches", c.involuntary_switches},
          {"load_at_end", c.load_at_end}};
}

nlohmann::json floor_json(const FdFloor& f) {
  return {{"n", f.n},
          {"fd", f.fd},
          {"interpolated_between", f.interpolated() ? nlohmann::json{f.from_n, f.to_n} : nlohmann::json(nullptr)}};
}

nlohmann::json kid_json(const KidResult& k) {
  return {{"value", k.value},
          {"ci_low", k.ci_low},
          {"ci_high", k.ci_high},
          {"ci_level", 0.95},
          {"bootstrap_resamples", k.resamples},
          {"reference_n", k.reference_n},
          {"subset_mean", k.subset_mean},
          {"subset_std", k.subset_std},
          {"subset_size", k.subset_size},
          {"subsets", k.subsets}};
}

nlohmann::json fd_infinity_json(const FrechetInfinity& f) {
  nlohmann::json points = nlohmann::json::array();
  for (const auto& [n, fd] : f.points) points.push_back({{"n", n}, {"fd", fd}});
  return {{"value", f.value}, {"ci_low", f.ci_low}, {"ci_high", f.ci_high},
          {"ci_level", 0.95}, {"slope", f.slope},   {"bootstrap_resamples", f.resamples},
          {"points", points}};
}

nlohmann::json fd_json(const FdQuality& q) {
  return {{"value", q.fd.fd},
          {"ci_low", q.fd.ci_low},
          {"ci_high", q.fd.ci_high},
          {"ci_level", 0.95},
          {"bootstrap_resamples", q.fd.resamples},
          {"samples", q.samples},
          {"generation_s", q.generation_s},
          {"per_image_s", q.samples ? q.generation_s / double(q.samples) : 0.0},
          {"features_s", q.features_s},
          {"feature_model", q.feature_model},
          {"feature_model_sha256", q.feature_model_sha256},
          {"reference_stats", q.reference_stats},
          {"floor", q.floor ? floor_json(*q.floor) : nlohmann::json(nullptr)},
          {"resolvable", q.resolvable()},
          {"kid", q.kid ? kid_json(*q.kid) : nlohmann::json(nullptr)},
          {"fd_infinity", q.fd_infinity ? fd_infinity_json(*q.fd_infinity) : nlohmann::json(nullptr)}};
}

nlohmann::json optimisations_json(const Session& session) {
  return {{"freeze", session.load.freeze},
          {"channels_last", session.load.channels_last},
          {"vae_tiling", session.vae_tiling ? nlohmann::json{{"tile", session.vae_tiling->tile},
                                                             {"overlap", session.vae_tiling->overlap}}
                                            : nlohmann::json(nullptr)},
          {"cuda_graphs", session.cuda_graphs},
          {"interop_threads",
           session.interop_threads > 0 ? nlohmann::json(session.interop_threads) : nlohmann::json(nullptr)}};
}

// The scheduler config the sampler actually used: a setting it ignores (Karras sigmas for DDIM)
// is recorded as off, so it neither claims to be effective nor splits a cell from the same work.
static nlohmann::json effective_config_json(const RunSpec& spec) {
  SchedulerConfig used = spec.config;
  if (!spec.sampler->uses_karras) used.use_karras_sigmas = false;
  return to_json(used);
}

nlohmann::json run_config_json(const RunSpec& spec, const Session& session) {
  return {
      {"unet", session.unet->path()},
      {"unet_sha256", unet_sha256(session)},
      {"vae", session.vae ? nlohmann::json(session.vae->path()) : nlohmann::json(nullptr)},
      {"vae_sha256", session.vae ? nlohmann::json(vae_sha256(session)) : nlohmann::json(nullptr)},
      {"cond", cond_json(session)},
      {"device", session.device.str()},
      {"dtype", dtype_name(session.dtype)},
      {"threads", session.threads},
      {"optimisations", optimisations_json(session)},
      {"sampler", spec.sampler->name},
      {"steps", spec.steps},
      {"shape", spec.shape},
      {"seed", spec.seed},
      {"vary_seed", spec.vary_seed},
      {"eta", spec.eta},
      {"guidance_scale", spec.guidance.value_or(0.0)},
      {"warmup", spec.warmup},
      {"repeat", spec.repeat},
      {"scheduler_config", effective_config_json(spec)},
  };
}

// --reference's figures as the run's JSON "quality" object.
static nlohmann::json quality_json(const Quality& q) {
  auto finite_or_null = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  return {{"reference", q.reference},
          {"per_sample", q.per_sample},
          {"latents", {{"rmse", q.rmse}, {"max_abs", q.max_abs}, {"psnr_db", finite_or_null(q.psnr_db)}}},
          {"images", q.has_images ? nlohmann::json{{"rmse", q.image_rmse},
                                                   {"max_abs", q.image_max_abs},
                                                   {"psnr_db", finite_or_null(q.image_psnr_db)}}
                                  : nlohmann::json(nullptr)}};
}

// SHA-256 of the final latents' float32 bytes (C order): equal in two processes exactly when the
// latents are bit-identical (shards against one process, a rerun against the first).
static nlohmann::json latents_sha256(const RunResult& r) {
  if (!r.latents.defined()) return nullptr;
  const at::Tensor t = r.latents.to(at::kCPU, at::kFloat).contiguous();
  return sha256_hex(std::string(static_cast<const char*>(t.data_ptr()), static_cast<size_t>(t.nbytes())));
}

nlohmann::json profile_json(const ProfileResult& p) {
  nlohmann::json ops = nlohmann::json::array();
  for (const OpCost& op : p.top) {
    ops.push_back({{"name", op.name}, {"calls", op.calls}, {"self_s", op.self_s}, {"total_s", op.total_s}});
  }
  return {{"trace", p.trace}, {"wall_s", p.wall_s}, {"top_ops", ops}};
}

nlohmann::json run_to_json(const RunResult& r, const Session& session) {
  const RunSpec& spec = r.spec;
  const nlohmann::json config = run_config_json(spec, session);
  const RunStats stats = compute_stats(r);
  nlohmann::json repeats = nlohmann::json::array();
  for (const RepeatResult& rep : r.repeats) {
    repeats.push_back({{"seed", rep.seed},
                       {"total_s", rep.total_s},
                       {"init_noise_s", rep.init_noise_s},
                       {"vae_s", rep.vae_s},
                       {"rest_s", rep.rest_s},
                       {"step_s", rep.step_s},
                       {"model_s", rep.model_s}});
  }
  nlohmann::json j = {
      {"config", config},
      {"status", status_name(r.status)},
      {"error", r.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.error)},
      {"failed_step", r.failed_step >= 0 ? nlohmann::json(r.failed_step) : nlohmann::json(nullptr)},
      {"nfe", model_evaluations(*spec.sampler, spec.steps)},
      {"notes", r.plan.notes},
      {"timesteps", r.plan.timesteps},
      {"sigmas", r.plan.sigmas},
      {"init_noise_sigma", r.plan.init_noise_sigma},
      {"integer_timesteps", r.plan.integer_timesteps},
      {"process", {{"id", r.process_id}}},
      {"latents_sha256", latents_sha256(r)},
      {"cold_forward_s", r.cold_forward_s ? nlohmann::json(*r.cold_forward_s) : nlohmann::json(nullptr)},
      {"cpu_time_s", {{"user", r.cpu_user_s}, {"sys", r.cpu_sys_s}}},
      {"warnings", r.warnings},
      {"contention", r.contention ? contention_json(*r.contention) : nlohmann::json(nullptr)},
      {"vae_tiling_overlap_rmse", optional_json(r.vae_tiling_overlap_rmse)},
      {"repeats", repeats},
      {"stats",
       {{"total_s", summary_json(stats.total)},
        {"step_s", summary_json(stats.step)},
        {"model_s", summary_json(stats.model)},
        {"sampler_s", summary_json(stats.sampler_time)},
        {"init_noise_s", summary_json(stats.init_noise)},
        {"vae_s", summary_json(stats.vae)},
        {"rest_s", summary_json(stats.rest)}}},
      {"outside_model_fraction", stats.outside_model_fraction},
      {"timing", r.timing},
      {"throughput", {{"steps_per_s", stats.steps_per_s}, {"images_per_s", stats.images_per_s}}},
      {"memory",
       {{"parameter_bytes", session.unet->parameter_bytes() + (session.vae ? session.vae->parameter_bytes() : 0)},
        {"peak_rss_bytes", r.peak_rss_bytes},
        {"rss_start_bytes", r.rss_start_bytes},
        {"peak_rss_scope", r.peak_rss_scope},
        {"page_faults_per_repeat", r.page_faults_per_repeat},
        {"device_peak_bytes", r.device_peak_bytes}}},
      {"quality", nullptr},
      {"fd", r.fd ? fd_json(*r.fd) : nlohmann::json(nullptr)},
  };
  if (r.quality) j["quality"] = quality_json(*r.quality);
  if (r.profile) j["profile"] = profile_json(*r.profile);
  return j;
}

nlohmann::json report_json(const std::vector<const Session*>& sessions, const SessionRecord& record,
                           const std::vector<RunResult>& results) {
  if (sessions.size() != results.size() || sessions.empty()) {
    throw std::invalid_argument("report_json: one session per result, at least one");
  }
  nlohmann::json runs = nlohmann::json::array();
  for (size_t i = 0; i < results.size(); ++i) runs.push_back(run_to_json(results[i], *sessions[i]));
  return {
      {"schema_version", kSchemaVersion},
      {"kind", "run"},
      {"context", environment_context(*sessions.front(), record)},
      {"runs", runs}};
}

}  // namespace diffbench
