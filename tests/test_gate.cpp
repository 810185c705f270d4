// The regression gate (compare, ab): it never passes by accident, matches cells on everything that
// changes the measured work, says loudly what differs, and tests per-process figures when it has them.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "cli_runner.h"
#include "gate_reports.h"
#include "diffbench/gate/compare.h"
#include "diffbench/plans/sweep.h"
#include "diffbench/gate/rank_tests.h"
#include "diffbench/core/statistics.h"

using namespace diffbench;
using namespace diffbench::testing;

TEST(Gate, NothingMatchedIsExitFourAndListsBothSides) {
  std::string dir = scratch_dir("gate_none");
  std::string a = write(dir, "a.json", report_of({run_of(10, "p1", kFive)}));
  std::string b = write(dir, "b.json", report_of({run_of(11, "p2", kFive)}));
  CliResult r = run_cli("compare " + a + " " + b + " --markdown " + dir + "/c.md");
  EXPECT_EQ(r.code, 4) << r.err;  // before: "No significant slowdown", exit 0
  EXPECT_NE(r.out.find("only in base: ddim 10 steps"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("only in new: ddim 11 steps"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("NOTHING COMPARED"), std::string::npos);
  EXPECT_NE(slurp(dir + "/c.md").find("NOTHING COMPARED"), std::string::npos);
  EXPECT_EQ(run_cli("compare " + a + " " + b + " --allow-undecided -q").code, 0);
}

TEST(Gate, ADifferentModelIsNotMatchedUnlessAskedAndThenSaidLoudly) {
  std::string dir = scratch_dir("gate_model");
  std::string a = write(dir, "a.json", report_of({run_of(10, "p1", kFive, std::string(64, 'a'))}));
  std::string b = write(dir, "b.json", report_of({run_of(10, "p2", kFive, std::string(64, 'b'))}));
  CliResult r = run_cli("compare " + a + " " + b);
  EXPECT_EQ(r.code, 4) << r.out;
  EXPECT_NE(r.out.find("only in model: `--ignore model`"), std::string::npos) << r.out;
  CliResult ignored = run_cli("compare " + a + " " + b + " --ignore model --markdown " + dir + "/c.md");
  EXPECT_EQ(ignored.code, 0) << ignored.out;
  EXPECT_NE(ignored.out.find("WARNING: ddim 10 steps 1x4x8x8 seed 0 was compared across different unet_sha256"),
            std::string::npos)
      << ignored.out;
  EXPECT_NE(slurp(dir + "/c.md").find("**WARNING**"), std::string::npos);
  EXPECT_EQ(run_cli("compare " + a + " " + b + " --ignore modle").code, 2);
}

TEST(Gate, ThreadsAreAPartOfTheCellAndContextDifferencesReachTheMarkdown) {
  std::string dir = scratch_dir("gate_threads");
  std::string a = write(dir, "a.json", report_of({run_of(10, "p1", kFive, std::string(64, 'a'), 2)}, 2));
  std::string b = write(dir, "b.json", report_of({run_of(10, "p2", kFive, std::string(64, 'a'), 1)}, 1));
  EXPECT_EQ(run_cli("compare " + a + " " + b).code, 4);
  CliResult r = run_cli("compare " + a + " " + b + " --ignore threads --markdown -");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("**WARNING**: the two contexts differ: threads: 2 vs 1"), std::string::npos) << r.out;
}

TEST(Gate, TheSmallestAttainablePIsComputedForTheActualSizes) {
  EXPECT_DOUBLE_EQ(mann_whitney_min_p(3, 6), 1.0 / 84);  // one-sided: 1 of C(9, 3) = 84 arrangements
  std::string dir = scratch_dir("gate_minp");
  // 3 repeats against 6, fully separated, 40% slower (beyond the 25% one process per side must
  // exceed): p = 1/84 < 0.05, so "slower" and no claim it cannot be.
  std::string a = write(dir, "a.json", report_of({run_of(10, "p1", {1.00, 1.01, 0.99})}));
  std::string b = write(dir, "b.json", report_of({run_of(10, "p2", {1.40, 1.41, 1.39, 1.42, 1.38, 1.40})}));
  CliResult r = run_cli("compare " + a + " " + b + " --json -");
  EXPECT_EQ(r.code, 3) << r.err;
  auto m = nlohmann::json::parse(r.out)["runs"][0]["metrics"][0];
  EXPECT_EQ(m["verdict"], "slower");
  EXPECT_DOUBLE_EQ(m["min_p"].get<double>(), 1.0 / 84);
  EXPECT_LT(m["p_value"].get<double>(), 0.05);  // one-sided (a tie in new: the normal approximation)
  EXPECT_EQ(r.err.find("nothing can be called"), std::string::npos);
  // 3 against 3: the smallest one-sided p is 1/20 = 0.05, not below alpha: "undecidable", exit 4.
  std::string c = write(dir, "c.json", report_of({run_of(10, "p3", {1.40, 1.41, 1.39})}));
  CliResult u = run_cli("compare " + a + " " + c + " --json -");
  EXPECT_EQ(u.code, 4);
  EXPECT_EQ(nlohmann::json::parse(u.out)["runs"][0]["metrics"][0]["verdict"], "undecidable");
}

TEST(Gate, SeveralProcessesPerSideAreTestedOnePerProcess) {
  // Within a process the repeats agree to 0.5%; the process levels scatter by +-8%, the same on both
  // sides. Pooled repeats would call this a change; one median per process does not.
  const std::vector<double> base_levels = {1.00, 1.08, 0.93, 1.05, 0.96, 1.02};
  const std::vector<double> new_levels = {1.06, 0.99, 1.04, 0.94, 1.07, 1.01};
  std::vector<nlohmann::json> base, updated;
  for (size_t k = 0; k < base_levels.size(); ++k) {
    std::vector<double> a, b;
    for (double e : {-0.005, 0.0, 0.005, 0.002, -0.002})
      a.push_back(base_levels[k] + e), b.push_back(new_levels[k] + e);
    base.push_back(run_of(10, "base" + std::to_string(k), a));
    updated.push_back(run_of(10, "new" + std::to_string(k), b));
  }
  Report rb, rn;
  for (const auto& run : base) rb.add_run(run, "base");
  for (const auto& run : updated) rn.add_run(run, "new");
  Comparison c = compare_reports(rb, rn, CompareSettings{});
  ASSERT_EQ(c.matched.size(), 1u);
  EXPECT_TRUE(c.matched[0].per_process);
  EXPECT_EQ(c.matched[0].metrics[0].n_base, 6u);
  EXPECT_EQ(c.matched[0].metrics[0].verdict, Verdict::no_change);
  EXPECT_TRUE(c.notes.empty());
  // One process per side: tested on repeats, and the report says the between-process noise is unknown.
  rb = Report{}, rn = Report{};
  rb.add_run(base[0], "base");
  rn.add_run(updated[0], "new");
  Comparison single = compare_reports(rb, rn, CompareSettings{});
  EXPECT_FALSE(single.matched[0].per_process);
  ASSERT_EQ(single.notes.size(), 1u);
  EXPECT_NE(single.notes[0].find("between-process noise unknown"), std::string::npos);
}

TEST(Gate, DetectableChangeHasTheNormalApproximationsClosedForm) {
  EXPECT_NEAR(normal_upper_quantile(0.025), 1.959964, 1e-6);
  EXPECT_NEAR(normal_upper_quantile(0.2), 0.841621, 1e-6);
  EXPECT_NEAR(normal_upper_quantile(0.05), 1.644854, 1e-6);
  // Both sides {1..5}: variance 2.5 each, se = sqrt(2.5/5 + 2.5/5) = 1; one-sided (1.644854 + 0.841621) / 3.
  EXPECT_NEAR(detectable_change({1, 2, 3, 4, 5}, {1, 2, 3, 4, 5}, 3.0, 0.05), 2.486475 / 3, 1e-6);
  EXPECT_TRUE(std::isinf(detectable_change({1}, {1, 2, 3}, 1.0, 0.05)));  // one figure: spread unknown
  EXPECT_TRUE(std::isinf(detectable_change({1, 2}, {1, 2}, 1.0, 0.05)));  // min p 1/6 >= alpha
}

TEST(Gate, AFailedRunIsListedNotSilentlyDropped) {
  std::string dir = scratch_dir("gate_failed");
  nlohmann::json failed = run_of(10, "p2", {});
  failed["status"] = "failed";
  std::string a = write(dir, "a.json", report_of({run_of(10, "p1", kFive), run_of(11, "p1", kFive)}));
  std::string b = write(dir, "b.json", report_of({failed, run_of(11, "p2", kFive)}));
  CliResult r = run_cli("compare " + a + " " + b + " --json " + dir + "/c.json");
  // Issue #22: a failed run on the new side fails the gate with its own exit code, whatever else
  // matched, and --allow-undecided does not change that.
  EXPECT_EQ(r.code, 5) << r.err;
  EXPECT_NE(r.out.find("FAILED in new: ddim 10 steps 1x4x8x8 seed 0 (failed)"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("a failed run never passes the gate (exit 5)"), std::string::npos) << r.err;
  auto c = nlohmann::json::parse(slurp(dir + "/c.json"));
  EXPECT_EQ(c["failed"], true);
  EXPECT_EQ(c["failed_in_new"][0], "ddim 10 steps 1x4x8x8 seed 0 (failed)");
  EXPECT_EQ(run_cli("compare " + a + " " + b + " --allow-undecided -q").code, 5);
  // A failed run on the base side is listed, never compared, and does not fail the gate by itself.
  CliResult reversed = run_cli("compare " + b + " " + a);
  EXPECT_NE(reversed.out.find("only in base: ddim 10 steps 1x4x8x8 seed 0 (failed)"), std::string::npos);
  EXPECT_NE(reversed.code, 5);
}

TEST(Gate, CellIdentityCoversModelConditioningDeviceDtypeThreads) {
  nlohmann::json c = {{"sampler", "ddim"}, {"steps", 5},
                      {"unet", "/a/x.pt"}, {"unet_sha256", "aa"},
                      {"threads", 2},      {"dtype", "fp32"},
                      {"device", "cpu"},   {"warmup", 1},
                      {"repeat", 3},       {"cond", {{"shape", {1, 1, 8}}, {"sha256", "cc"}}}};
  nlohmann::json moved = c;
  moved["unet"] = "/b/x.pt";  // the same file elsewhere, measured more often: the same cell
  moved["repeat"] = 9;
  EXPECT_EQ(cell_key(c), cell_key(moved));
  for (const char* field : {"unet_sha256", "threads", "dtype", "device", "cond"}) {
    nlohmann::json other = c;
    other[field] = "different";
    EXPECT_NE(cell_key(c), cell_key(other)) << field;
  }
  nlohmann::json other = c;
  other["threads"] = 1;
  EXPECT_EQ(cell_key(c, {"threads"}), cell_key(other, {"threads"}));
  EXPECT_EQ(config_differences(c, other), std::vector<std::string>{"threads"});
  // The conditioning file found through another path (a second build's default model): the same
  // cell, identified by content (issue #21: the README's two-binary recipe matched nothing).
  c["cond"]["source"] = "/work/main/build/../models/digits/cond.npy";
  nlohmann::json found = c;
  found["cond"]["source"] = "/opt/base/models/digits/cond.npy";
  EXPECT_EQ(cell_key(c), cell_key(found));
  found["cond"]["source"] = "zeros";  // zeros of that shape are other inputs
  EXPECT_NE(cell_key(c), cell_key(found));
}

TEST(Gate, AReportFromBeforeTheOptimisationFlagsMatchesARunWithNone) {
  const nlohmann::json none = {{"freeze", false},
                               {"channels_last", false},
                               {"vae_tiling", nullptr},
                               {"cuda_graphs", false},
                               {"interop_threads", nullptr}};
  nlohmann::json old = {{"sampler", "ddim"}, {"steps", 5}, {"unet_sha256", "aa"}, {"threads", 2}};
  nlohmann::json plain = old, frozen = old;
  plain["optimisations"] = none;
  frozen["optimisations"] = none;
  frozen["optimisations"]["freeze"] = true;
  EXPECT_EQ(cell_key(old), cell_key(plain));
  EXPECT_TRUE(config_differences(old, plain).empty());
  EXPECT_NE(cell_key(old), cell_key(frozen));
  EXPECT_EQ(config_differences(old, frozen), std::vector<std::string>{"optimisations.freeze"});
  EXPECT_EQ(cell_key(old, {"optimisations"}), cell_key(frozen, {"optimisations"}));  // compare --ignore optimisations
}

TEST(Gate, AbSeparateProcessesTestOneFigurePerProcess) {
  std::string dir = scratch_dir("gate_ab");
  const std::string run =
      " -- --unet " + kModels + "tiny.pt --threads 1 --sampler ddim --steps 4 --warmup 0 --repeat 2";
  // 16x the latent pixels on the new side: a slowdown no noise can hide, matched with --ignore shape.
  CliResult slow = run_cli(
      "ab --separate-processes --warmup-blocks 0 -q --ignore shape --new-args \"--shape 1,4,64,64\" "
      "--save-base " +
      dir + "/base.json --save-new " + dir + "/new.json --json " + dir + "/c.json" + run);
  EXPECT_EQ(slow.code, 3) << slow.err << slurp(dir + "/c.json");
  auto c = nlohmann::json::parse(slurp(dir + "/c.json"));
  EXPECT_EQ(c["ab"]["mode"], "processes");
  // Decided at the first look (7 blocks at ab's alpha 0.02) unless a neighbour disturbed a block.
  const int blocks = c["ab"]["blocks"].get<int>();
  EXPECT_GE(blocks, 7);
  std::set<std::string> processes;
  for (const auto& r : read_report(dir + "/base.json").runs) processes.insert(r["process"]["id"].get<std::string>());
  EXPECT_EQ(processes.size(), static_cast<size_t>(blocks));  // one process per block, each with its own id
  // The saved sides are ordinary reports: compare tests them pair by pair.
  EXPECT_EQ(run_cli("compare -q --ignore shape " + dir + "/base.json " + dir + "/new.json").code, 3);
  // Six blocks can never reach the first look's level (2^-6 > 0.02 / 2): refused before anything runs.
  CliResult few = run_cli("ab --max-blocks 6 -q" + run);
  EXPECT_EQ(few.code, 2) << few.err;
  EXPECT_NE(few.err.find("fewer than 7 blocks can never reach alpha 0.02"), std::string::npos) << few.err;
  EXPECT_EQ(run_cli("ab --budget 0" + run).code, 2);
  EXPECT_EQ(run_cli("ab" + run + " --json x.json").code, 2);  // ab writes the reports itself
}

TEST(Gate, WilcoxonSignedRankExactPValues) {
  EXPECT_DOUBLE_EQ(wilcoxon_signed_rank_tails({1, 2, 3, 4, 5, 6}).greater, 1.0 / 64);  // the extreme of 2^6
  EXPECT_DOUBLE_EQ(wilcoxon_signed_rank_tails({1, 2, 3}).greater, 1.0 / 8);
  EXPECT_DOUBLE_EQ(wilcoxon_signed_rank_tails({-1, 2, 3}).greater, 2.0 / 8);  // W+ = 5: P(W+ >= 5) = 2/8
  EXPECT_DOUBLE_EQ(wilcoxon_signed_rank_tails({-1, 2, 3}).less, 7.0 / 8);  // P(W+ <= 5)
  EXPECT_DOUBLE_EQ(wilcoxon_signed_rank_tails({0, 0}).greater, 1.0);  // no nonzero difference: no evidence
}

TEST(Gate, AbPairsCancelDriftThatHidesASlowdownFromUnpairedTests) {
  // The machine drifts by +-20% between pairs; within each pair the new side is 8-13% slower.
  // One median per process, unpaired, cannot see it; the pair ratios can.
  const std::vector<double> drift = {1.0, 1.2, 0.9, 1.1, 1.3, 0.95};
  std::vector<nlohmann::json> base, updated;
  for (size_t k = 0; k < drift.size(); ++k) {
    auto a = run_of(10, "base" + std::to_string(k), {drift[k], drift[k] * 1.001, drift[k] * 0.999});
    const double slow = 1.08 + 0.01 * double(k);
    auto b = run_of(10, "new" + std::to_string(k), {drift[k] * slow, drift[k] * slow * 1.001, drift[k] * slow * 0.999});
    a["process"]["pair"] = int(k);
    b["process"]["pair"] = int(k);
    base.push_back(a);
    updated.push_back(b);
  }
  Report rb, rn;
  for (const auto& run : base) rb.add_run(run, "base");
  for (const auto& run : updated) rn.add_run(run, "new");
  Comparison paired = compare_reports(rb, rn, CompareSettings{});
  ASSERT_TRUE(paired.matched[0].paired);
  EXPECT_EQ(paired.matched[0].metrics[0].verdict, Verdict::slower);
  EXPECT_NEAR(paired.matched[0].metrics[0].change, std::exp((std::log(1.10) + std::log(1.11)) / 2) - 1, 1e-9);
  EXPECT_DOUBLE_EQ(paired.matched[0].metrics[0].p_value, 1.0 / 64);  // one-sided: all six pairs agree
  Report ub, un;  // the same runs without their pair indices
  for (auto& r : base) r["process"].erase("pair"), ub.add_run(r, "base");
  for (auto& r : updated) r["process"].erase("pair"), un.add_run(r, "new");
  Comparison unpaired = compare_reports(ub, un, CompareSettings{});
  EXPECT_FALSE(unpaired.matched[0].paired);
  EXPECT_NE(unpaired.matched[0].metrics[0].verdict, Verdict::slower);
}
