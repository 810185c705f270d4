// `ab` in one process: both sides' models loaded once, side by side, and each block runs every
// cell on both sides in turn. The level of a process (frequency, memory placement: ~5% between
// processes here) is then common to both sides and cancels in each block's ratio.
#include <array>

#include <fmt/format.h>

#include "diffbench/app/ab_inprocess.h"
#include "diffbench/app/model_pool.h"
#include "diffbench/app/open_session.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/measure/stop.h"
#include "diffbench/report/json.h"

namespace diffbench {
namespace {

struct InSide {
  RunSetup setup;
  std::unique_ptr<ModelPool> own;  ///< null when the side runs on the other side's models
  ModelPool* pool = nullptr;  ///< `own`, or the shared pool
  std::vector<RunSpec> specs;
};

// Opens the side's models, or, given `shared`, runs the side's own specs on those.
void open_side(InSide& side, ModelPool* shared) {
  const RunSetup& o = side.setup;
  side.own.reset();  // the previous models are freed first: the new ones land where memory is now
  side.specs.clear();
  if (!shared) side.own = std::make_unique<ModelPool>(o, !o.sampler.empty());
  side.pool = shared ? shared : side.own.get();
  const std::vector<std::string> samplers =
      o.sampler.empty() ? side.pool->default_samplers() : std::vector<std::string>{o.sampler};
  std::vector<std::string> warnings;
  for (const auto& name : samplers) {
    RunSpec spec = side.pool->spec_for(o.spec, name, &warnings);
    spec.warmup = 0;  // the uncounted first block(s) warm both sides up
    side.specs.push_back(spec);
  }
}

class InProcessBlocks : public BlockSource {
 public:
  // Sides that open the same models the same way share one copy (the base side's): a difference
  // between two copies of one model (where each sits in memory) is not the change asked about.
  // It did not remove every per-process offset between the sides (docs/compare.md).
  InProcessBlocks(std::array<InSide, 2> sides, int reload)
      : sides_(std::move(sides)), reload_(reload), shared_(sides_[0].setup.session == sides_[1].setup.session) {
    open_both(0);
    if (sides_[0].specs.size() != sides_[1].specs.size()) {
      throw UsageError(fmt::format("ab: the sides run {} and {} samplers; give both the same {}",
                                   sides_[0].specs.size(), sides_[1].specs.size(), setting_name("sampler")));
    }
  }
  std::string mode() const override { return "in-process"; }
  bool shared_models() const override { return shared_; }

  void run_block(int k, AbSide& base, AbSide& next) override {
    if (reload_ > 0 && blocks_++ % reload_ == 0) reload_and_warm(k);
    for (int i = 0; i < 2; ++i) {
      const int which = (k % 2 == 0) == (i == 0) ? 0 : 1;
      AbSide& side = which == 0 ? base : next;
      InSide& in = sides_[which];
      std::vector<RunResult> results;
      std::vector<const Session*> sessions;
      for (const RunSpec& spec : in.specs) {
        const Session& session = in.pool->session_for(spec);
        results.push_back(run(session, in.pool->record_for(spec), spec));
        sessions.push_back(&session);
        if (results.back().status == RunStatus::interrupted) throw Interrupted(stop_requested());
      }
      nlohmann::json doc = report_json(sessions, in.pool->main_record(), results);
      if (side.context.is_null()) side.context = doc["context"];
      for (auto& run : doc["runs"]) {
        run["ab_block"] = k;
        run["ab_first"] = i == 0;  // A B in even blocks, B A in odd ones
        run["ab_models_loaded_at_block"] = loaded_at_;  // --reload-blocks: when this side's models were loaded
        side.add(std::move(run));
      }
    }
  }

 private:
  // Both sides' models loaded again (in block order), then one uncounted run each: the first
  // forward calls of a new module are slow (TorchScript's profiling executor).
  void reload_and_warm(int k) {
    open_both(k);
    for (auto& side : sides_) {
      for (RunSpec spec : side.specs) {
        spec.repeat = 1;
        run(side.pool->session_for(spec), side.pool->record_for(spec), spec);
        if (stop_requested()) throw Interrupted(stop_requested());
      }
    }
  }

  // Both sides' models in block k's order, or the base side's once when they share them.
  void open_both(int k) {
    loaded_at_ = k;
    if (shared_) {
      open_side(sides_[0], nullptr);
      open_side(sides_[1], sides_[0].pool);
      return;
    }
    for (int i = 0; i < 2; ++i) open_side(sides_[(k % 2 == 0) == (i == 0) ? 0 : 1], nullptr);
  }

  std::array<InSide, 2> sides_;
  int reload_ = 0;  ///< load both sides' models again every this many blocks (0: never)
  bool shared_ = false;  ///< one copy of the models for both sides
  int blocks_ = 0;
  int loaded_at_ = 0;  ///< the block (warm-up blocks counted) at which the models were last loaded
};

}  // namespace

std::unique_ptr<BlockSource> inprocess_blocks(const RunSetup& base, const RunSetup& next, int reload, std::string* why) {
  std::array<InSide, 2> sides;
  sides[0].setup = base;
  sides[1].setup = next;
  for (auto& side : sides) {
    side.setup.out.quiet = true;
    side.setup.session.trim_before_runs = false;  // a block's runs have no warm-up to fault given-back memory in again
  }
  const SessionSettings &a = base.session, &b = next.session;
  const auto differ = [why](const char* field) { *why = "the sides ask for different " + setting_name(field); };
  if (a.threads != b.threads) differ("threads");
  if (a.interop_threads != b.interop_threads) differ("interop_threads");
  if (a.device != b.device) differ("device");
  if (a.pin != b.pin) *why = "one side asks for " + setting_name("pin");
  if (a.keep_heap != b.keep_heap) differ("heap");
  if (!why->empty()) return nullptr;
  return std::make_unique<InProcessBlocks>(std::move(sides), reload);
}

}  // namespace diffbench
