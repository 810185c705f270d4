// The runner's protocol on a fake model: what is timed, what is counted, and what is kept when a
// step goes NaN or a signal arrives. The real-model behaviour is covered by the CLI tests.
#include <chrono>
#include <csignal>
#include <memory>
#include <thread>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "fake_model.h"
#include "measure/guided_model.h"
#include "models/device.h"
#include "diffbench/samplers/registry.h"
#include "diffbench/measure/runner.h"
#include "diffbench/measure/session.h"
#include "diffbench/measure/resolve.h"
#include "diffbench/measure/stop.h"

namespace diffbench {
namespace {

using testing::FakeModel;

struct Fixture {
  Session session;
  SessionRecord record;
  FakeModel* model;
  explicit Fixture(int arity = 2) {
    auto fake = std::make_unique<FakeModel>(arity);
    model = fake.get();
    session.unet = std::move(fake);
  }
};

RunSpec spec_of(int steps, int warmup, int repeat) {
  RunSpec spec;
  spec.sampler = &find_sampler("ddim");
  spec.steps = steps;
  spec.shape = {1, 4, 8, 8};
  spec.warmup = warmup;
  spec.repeat = repeat;
  spec.guidance = 0.0;
  return spec;
}

TEST(Runner, EachStepChargesTheModelsSleepToModelTimeAndTheColdForwardStandsApart) {
  Fixture f;
  f.model->sleep_s = 0.02;
  RunResult r = run(f.session, f.record, spec_of(3, 1, 2));
  ASSERT_EQ(r.status, RunStatus::ok) << r.error;
  ASSERT_TRUE(r.cold_forward_s.has_value());
  EXPECT_GE(*r.cold_forward_s, 0.02);
  ASSERT_EQ(r.repeats.size(), 2u);
  for (const RepeatResult& rep : r.repeats) {
    ASSERT_EQ(rep.step_s.size(), 3u);
    double steps = 0;
    for (int i = 0; i < 3; ++i) {
      EXPECT_GE(rep.model_s[i], 0.02);
      EXPECT_LT(rep.model_s[i], 0.5);
      EXPECT_GE(rep.step_s[i], rep.model_s[i]);  // a step's time contains its model call
      steps += rep.step_s[i];
    }
    EXPECT_GE(rep.total_s + 1e-9, steps + rep.init_noise_s + rep.rest_s);
  }
  // The cold forward and the two calls that let the engine settle (#41), then one warm-up and two counted repeats.
  EXPECT_EQ(f.model->calls, 3 + 3 * 3);
  // The session's record keeps it; a second run in the same session makes no second cold forward.
  EXPECT_EQ(f.record.cold_forward_s, r.cold_forward_s);
  RunResult again = run(f.session, f.record, spec_of(3, 0, 1));
  EXPECT_FALSE(again.cold_forward_s.has_value());
  EXPECT_EQ(f.model->calls, 3 + 3 * 3 + 3);
  // A fresh record (a session opened again) times its own first forward.
  SessionRecord reopened;
  EXPECT_TRUE(run(f.session, reopened, spec_of(3, 0, 1)).cold_forward_s.has_value());
}

TEST(Runner, WarmupsAreNotCountedAndRepeatsShareTheSeedUnlessVaried) {
  Fixture f;
  RunSpec spec = spec_of(2, 2, 3);
  RunResult r = run(f.session, f.record, spec);
  ASSERT_EQ(r.repeats.size(), 3u);
  for (const RepeatResult& rep : r.repeats) EXPECT_EQ(rep.seed, 0u);
  spec.vary_seed = true;
  spec.seed = 10;
  RunResult varied = run(f.session, f.record, spec);
  ASSERT_EQ(varied.repeats.size(), 3u);
  EXPECT_EQ(varied.repeats[0].seed, 10u);
  EXPECT_EQ(varied.repeats[2].seed, 12u);
}

TEST(Runner, NanAtAStepFailsTheRunAtThatStepAndKeepsFinishedRepeats) {
  Fixture f;
  // Calls: 0 is the cold forward, 1-2 the engine's settling, 3-6 the first counted repeat, 7-10 the
  // second; NaN from its third step.
  f.model->nan_from_call = 9;
  RunResult r = run(f.session, f.record, spec_of(4, 0, 3));
  EXPECT_EQ(r.status, RunStatus::failed);
  EXPECT_EQ(r.failed_step, 2);
  EXPECT_NE(r.error.find("step 2"), std::string::npos) << r.error;
  EXPECT_EQ(r.repeats.size(), 1u);
}

TEST(Runner, ASignalStopsAfterTheCurrentStepAndKeepsFinishedRepeats) {
  Fixture f;
  f.model->on_call = [](int call) {
    if (call == 8) request_stop(SIGTERM);  // the second counted repeat's first step (after 3 loading calls)
  };
  RunResult r = run(f.session, f.record, spec_of(5, 0, 3));
  request_stop(0);
  EXPECT_EQ(r.status, RunStatus::interrupted);
  EXPECT_NE(r.error.find("signal 15 at step 1"), std::string::npos) << r.error;
  EXPECT_EQ(r.repeats.size(), 1u);
  EXPECT_EQ(f.model->calls, 9);  // nothing ran after the step that saw the signal
}

TEST(Runner, GuidanceIsUncondPlusScaleTimesTheDifferenceInOneBatchedCall) {
  Fixture f(3);
  f.session.cond = at::ones({1, 1, 8});
  f.session.uncond = at::full({1, 1, 8}, 0.5);
  RunSpec spec;
  spec.shape = {2, 4, 8, 8};
  spec.guidance = 3.0;
  EXPECT_TRUE(uses_guidance(f.session, spec));
  GuidedModel guided(f.session, spec);
  at::Tensor out = guided(at::zeros({2, 4, 8, 8}), at::scalar_tensor(999, at::kLong));
  EXPECT_EQ(f.model->calls, 1);
  EXPECT_TRUE(at::allclose(out, at::full({2, 4, 8, 8}, 0.5 + 3.0 * (1.0 - 0.5))));
  spec.guidance = 1.0;  // scale 1: the conditional model alone, no uncond half
  EXPECT_FALSE(uses_guidance(f.session, spec));
  GuidedModel plain(f.session, spec);
  EXPECT_TRUE(at::allclose(plain(at::zeros({2, 4, 8, 8}), at::scalar_tensor(999, at::kLong)), at::ones({2, 4, 8, 8})));
  const auto marks = guided.marks();  // one call of `guided`: its two marks on the run's clock
  ASSERT_EQ(marks.size(), 1u);
  const std::vector<double> t = guided.clock().read();
  EXPECT_GT(t[marks[0].second], t[marks[0].first]);
  guided.clear_marks();
  EXPECT_TRUE(guided.marks().empty());
}

TEST(Runner, TheHostClockGivesIncreasingSecondsFromItsFirstMark) {
  auto clock = device::stream_clock(c10::Device(c10::kCPU), /*events=*/true);  // no CUDA: the host clock
  EXPECT_STREQ(clock->kind(), "host");
  EXPECT_EQ(clock->mark(), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(clock->mark(), 1);
  const std::vector<double> t = clock->read();
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[0], 0.0);
  EXPECT_GE(t[1], 0.019);
  clock->clear();
  EXPECT_EQ(clock->mark(), 0);
}

}  // namespace
}  // namespace diffbench
