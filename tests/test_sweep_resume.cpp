// Sweeps that tell the truth: every cell validated before the first runs, duplicates refused,
// tables that show what differs, merge in grid order, resume only of the same model and of a grid
// that holds every resumed cell,
// outputs that are devices or pipes, and cut-off lines that are never silently merged.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <functional>

#include "cli_runner.h"
#include "diffbench/core/files.h"
#include "diffbench/plans/sweep.h"

using namespace diffbench;
using namespace diffbench::testing;

namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

std::vector<std::string> cells_in_order(const std::string& path) {
  std::vector<std::string> out;
  for (const auto& r : read_report(path).runs) {
    out.push_back(r["config"]["sampler"].get<std::string>() + ":" + std::to_string(r["config"]["steps"].get<int>()));
  }
  return out;
}

}  // namespace

TEST(SweepResume, EveryCellIsValidatedBeforeTheFirstRuns) {
  std::string dir = scratch_dir("sweep_validate");
  CliResult r = run_cli(kSweep + "--sampler ddim,lcm --steps 10,60 --json " + dir + "/s.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("cell lcm 60 steps"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(dir + "/s.json"));  // before: three cells ran and were written first
}

TEST(SweepResume, RepeatedAndEmptyListItemsAreRefused) {
  std::string dir = scratch_dir("sweep_lists");
  for (const char* bad : {"--steps 2,2", "--steps 1,,2", "--sampler ddim,ddim", "--batch 1,1", "--steps 3,"}) {
    CliResult r = run_cli(kSweep + "--sampler ddim " + bad + " --json " + dir + "/s.json");
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  }
  EXPECT_EQ(run_cli(kSweep + "--sampler ddim --steps 2 --shape 1,4,8,8 --shape 1,4,8,8 --json " + dir + "/s.json").code,
            2);
  EXPECT_FALSE(exists(dir + "/s.json"));
}

TEST(SweepResume, TablesShowTheShapeWhenCellsDifferInIt) {
  std::string dir = scratch_dir("sweep_shape");
  CliResult r = run_cli("sweep --unet " + kModels +
                        "tiny.pt --warmup 0 --repeat 1 --threads 1 --sampler ddim --steps 2 "
                        "--shape 1,4,8,8 --batch 1,2 --json " +
                        dir + "/s.json --markdown " + dir + "/t.md");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Shape"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2x4x8x8"), std::string::npos) << r.out;
  EXPECT_NE(slurp(dir + "/t.md").find("| 2x4x8x8 |"), std::string::npos);
}

TEST(SweepResume, MergeRestoresGridOrderAndWritesToStdout) {
  std::string dir = scratch_dir("sweep_order");
  std::string grid = "--sampler ddim,euler --steps 1,2,3 ";
  ASSERT_EQ(run_cli(kSweep + grid + "--json " + dir + "/all.json").code, 0);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(run_cli(kSweep + grid + "--shard " + std::to_string(i) + "/2 --jsonl " + dir + "/s" + std::to_string(i) +
                      ".jsonl")
                  .code,
              0);
  }
  ASSERT_EQ(run_cli("merge " + dir + "/s1.jsonl " + dir + "/s0.jsonl -o " + dir + "/m.json").code, 0);
  EXPECT_EQ(cells_in_order(dir + "/m.json"), cells_in_order(dir + "/all.json"));  // before: shard order
  CliResult out = run_cli("merge " + dir + "/s0.jsonl " + dir + "/s1.jsonl -o -");
  ASSERT_EQ(out.code, 0) << out.err;
  EXPECT_EQ(nlohmann::json::parse(out.out)["runs"].size(), 6u);
}

TEST(SweepResume, ResumeRefusesAnotherModelOrGrid) {
  std::string dir = scratch_dir("sweep_resume_refuse");
  ASSERT_EQ(
      run_cli(kSweep + "--unet " + kModels + "gaussian.pt --sampler ddim --steps 2 --json " + dir + "/g.json").code, 0);
  CliResult model = run_cli(kSweep + "--sampler ddim --steps 2 --json " + dir + "/t.json --resume " + dir + "/g.json");
  EXPECT_EQ(model.code, 2);  // before: the cell was skipped as if measured on this model
  EXPECT_NE(model.err.find("another model"), std::string::npos) << model.err;
  ASSERT_EQ(run_cli(kSweep + "--sampler ddim --steps 2,3 --json " + dir + "/a.json").code, 0);
  CliResult grid = run_cli(kSweep + "--sampler ddim --steps 2,4 --json " + dir + "/b.json --resume " + dir + "/a.json");
  EXPECT_EQ(grid.code, 2);
  EXPECT_NE(grid.err.find("another grid"), std::string::npos) << grid.err;
  // Another diffbench version (issue #28: promised, held by no test).
  auto doc = nlohmann::json::parse(slurp(dir + "/a.json"));
  doc["context"]["diffbench_version"] = "0.0.1-another";
  write_file_atomically(dir + "/v.json", doc.dump());
  CliResult version =
      run_cli(kSweep + "--sampler ddim --steps 2,3 --json " + dir + "/c.json --resume " + dir + "/v.json");
  EXPECT_EQ(version.code, 2);
  EXPECT_NE(version.err.find("0.0.1-another"), std::string::npos) << version.err;
}

TEST(SweepResume, AGridExtendedByAStepKeepsItsCellsAndStampsThemWithTheNewGrid) {
  // Issue #22: resuming a grid extended by one step refused, naming a cell both grids have.
  std::string dir = scratch_dir("sweep_resume_extend");
  for (const std::string kind : {"json", "jsonl"}) {
    const std::string out = dir + "/a." + kind;
    ASSERT_EQ(run_cli(kSweep + "--sampler ddim --steps 2,3 --" + kind + " " + out).code, 0);
    const Report before = read_report(out);
    CliResult r = run_cli(kSweep + "--sampler ddim --steps 2,3,4 --resume " + out);
    ASSERT_EQ(r.code, 0) << r.err;
    Report report = read_report(out);
    ASSERT_EQ(report.runs.size(), 3u) << kind;
    for (size_t i = 0; i < 2; ++i) EXPECT_EQ(report.runs[i]["repeats"], before.runs[i]["repeats"]);  // kept
    ASSERT_EQ(cells_in_order(out), (std::vector<std::string>{"ddim:2", "ddim:3", "ddim:4"})) << kind;
    for (size_t i = 0; i < 3; ++i) {  // one grid, so its shards merge
      EXPECT_EQ(report.runs[i]["sweep"]["grid_sha256"], report.runs[2]["sweep"]["grid_sha256"]) << kind;
      EXPECT_EQ(report.runs[i]["sweep"]["cell"], i) << kind;
      EXPECT_EQ(report.runs[i]["sweep"]["cells"], 3) << kind;
    }
    EXPECT_EQ(run_cli("merge " + out + " -o " + dir + "/m." + kind + ".json").code, 0);
  }
  // A grid that dropped a cell says which and what differs from the nearest cell it has.
  CliResult fewer =
      run_cli(kSweep + "--sampler ddim --steps 2,4 --json " + dir + "/b.json --resume " + dir + "/a.json");
  EXPECT_EQ(fewer.code, 2);
  EXPECT_NE(fewer.err.find("(ddim 3 steps) that this grid does not have (the nearest cell here differs in steps)"),
            std::string::npos)
      << fewer.err;
}

TEST(SweepResume, FailedCellsAreKeptAndSkippedNotRunAgain) {
  // docs/sweeps.md: resume skips every cell already there, ok or failed (a failure is a result).
  std::string dir = scratch_dir("sweep_resume_failed");
  const std::string grid = "sweep -q --warmup 0 --repeat 1 --threads 1 --unet " + kData +
                           "throws_below_500.pt --shape 1,4,8,8 --sampler ddim,euler --steps 10 ";
  ASSERT_EQ(run_cli(grid + "--jsonl " + dir + "/s.jsonl").code, 1);
  const std::string before = slurp(dir + "/s.jsonl");
  ASSERT_EQ(read_report(dir + "/s.jsonl").runs.size(), 2u);
  CliResult again = run_cli(grid + "--resume " + dir + "/s.jsonl");
  EXPECT_EQ(slurp(dir + "/s.jsonl"), before) << again.err;  // nothing re-measured, nothing appended
  for (const auto& run : read_report(dir + "/s.jsonl").runs) EXPECT_EQ(run["status"], "failed");
}

TEST(SweepResume, ANewOutputGetsEveryCellEvenWhenAllWereDone) {
  std::string dir = scratch_dir("sweep_resume_new");
  std::string grid = "--sampler ddim --steps 2,3 ";
  ASSERT_EQ(run_cli(kSweep + grid + "--json " + dir + "/old.json").code, 0);
  CliResult r = run_cli(kSweep + grid + "--json " + dir + "/new.json --resume " + dir + "/old.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_report(dir + "/new.json").runs.size(), 2u);  // before: nothing was written
  ASSERT_EQ(run_cli(kSweep + grid + "--jsonl " + dir + "/new.jsonl --resume " + dir + "/old.json").code, 0);
  EXPECT_EQ(read_report(dir + "/new.jsonl").runs.size(), 2u);
}

TEST(SweepResume, DevicesAndPipesAreWrittenWithoutFsync) {
  std::string dir = scratch_dir("sweep_devnull");
  CliResult null = run_cli(kSweep + "--sampler ddim --steps 2,3 --jsonl /dev/null");
  EXPECT_EQ(null.code, 0) << null.err;  // before: "No space left on device" after measuring
  std::string cmd = "bash -o pipefail -c \"" + std::string(DIFFBENCH_BIN) + " " + kSweep +
                    "--sampler ddim --steps 2 --jsonl /dev/stdout | cat > " + dir + "/p.jsonl\"";
  EXPECT_EQ(std::system(cmd.c_str()), 0);  // stdout is a pipe here: fsync would fail with EINVAL
  EXPECT_EQ(read_report(dir + "/p.jsonl").runs.size(), 1u);
}

TEST(SweepResume, ACutOffLineIsDroppedByResumeAndRefusedByMerge) {
  std::string dir = scratch_dir("sweep_cut");
  std::string grid = "--sampler ddim --steps 2,3,4 ";
  ASSERT_EQ(run_cli(kSweep + grid + "--jsonl " + dir + "/s.jsonl").code, 0);
  std::string text = slurp(dir + "/s.jsonl");
  size_t second_line_end = text.find('\n', text.find('\n') + 1);
  write_file_atomically(dir + "/s.jsonl", text.substr(0, second_line_end + 1) + text.substr(second_line_end + 1, 50));
  CliResult merge = run_cli("merge " + dir + "/s.jsonl -o " + dir + "/m.json");
  EXPECT_EQ(merge.code, 2);
  EXPECT_NE(merge.err.find("line 3 is cut off"), std::string::npos) << merge.err;
  CliResult resume = run_cli("sweep --unet " + kModels + "tiny.pt --warmup 0 --repeat 1 --threads 1 " + grid +
                             "--resume " + dir + "/s.jsonl");
  ASSERT_EQ(resume.code, 0) << resume.err;
  EXPECT_NE(resume.err.find("dropped the cut-off line 3"), std::string::npos) << resume.err;
  Report done = read_report(dir + "/s.jsonl");
  EXPECT_FALSE(done.truncated_tail);
  EXPECT_EQ(done.runs.size(), 3u);  // the third cell ran again, on a clean line
  EXPECT_EQ(run_cli("merge " + dir + "/s.jsonl -o " + dir + "/m.json").code, 0);
}

// Each line of a JSON-lines file passed through `edit`.
void edit_lines(const std::string& path, const std::function<void(nlohmann::json&)>& edit) {
  std::string text = slurp(path), out;
  size_t at = 0;
  for (size_t end; (end = text.find('\n', at)) != std::string::npos; at = end + 1) {
    nlohmann::json doc = nlohmann::json::parse(text.substr(at, end - at));
    edit(doc);
    out += doc.dump() + "\n";
  }
  write_file_atomically(path, out);
}

TEST(SweepResume, MergeRefusesShardsOfAnotherGridOrVersionUnlessForced) {
  std::string dir = scratch_dir("sweep_versions");
  const std::string grid = "--sampler ddim --steps 2,3 ";
  for (int i : {0, 1}) {
    ASSERT_EQ(run_cli(kSweep + grid + "--shard " + std::to_string(i) + "/2 --jsonl " + dir + "/s" + std::to_string(i) +
                      ".jsonl")
                  .code,
              0);
  }
  const std::string inputs = dir + "/s0.jsonl " + dir + "/s1.jsonl -o " + dir + "/m.json";
  ASSERT_EQ(run_cli("merge " + inputs).code, 0);
  edit_lines(dir + "/s1.jsonl", [](nlohmann::json& d) { d["context"]["diffbench_version"] = "0.0.1"; });
  CliResult versions = run_cli("merge " + inputs);
  EXPECT_EQ(versions.code, 2);
  EXPECT_NE(versions.err.find("2 different diffbench versions"), std::string::npos) << versions.err;
  edit_lines(dir + "/s1.jsonl", [](nlohmann::json& d) { d["runs"][0]["sweep"]["grid_sha256"] = "another"; });
  CliResult grids = run_cli("merge " + inputs);
  EXPECT_EQ(grids.code, 2);
  EXPECT_NE(grids.err.find("2 different grids"), std::string::npos) << grids.err;
  EXPECT_EQ(run_cli("merge --force " + inputs).code, 0);
}

TEST(SweepResume, ShardsOfAGridOnSeveralModelsMerge) {
  // The lecture grid runs students beside their teacher: each shard may hold other UNet files.
  std::string dir = scratch_dir("sweep_models");
  const std::string grid = "--sampler ddim,euler --steps 2 --model-for euler=" + kModels + "gaussian.pt ";
  for (int i : {0, 1}) {
    ASSERT_EQ(run_cli(kSweep + grid + "--shard " + std::to_string(i) + "/2 --jsonl " + dir + "/s" + std::to_string(i) +
                      ".jsonl")
                  .code,
              0);
  }
  CliResult merged = run_cli("merge " + dir + "/s0.jsonl " + dir + "/s1.jsonl -o " + dir + "/m.json");
  ASSERT_EQ(merged.code, 0) << merged.err;
  EXPECT_EQ(cells_in_order(dir + "/m.json"), (std::vector<std::string>{"ddim:2", "euler:2"}));
}

TEST(SweepResume, ExtraCellsJoinTheGridOnce) {
  std::string dir = scratch_dir("sweep_cell");
  CliResult r = run_cli(kSweep + "--sampler ddim --steps 2,3 --cell euler:4 --json " + dir + "/s.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(cells_in_order(dir + "/s.json"), (std::vector<std::string>{"ddim:2", "ddim:3", "euler:4"}));
  EXPECT_EQ(run_cli(kSweep + "--sampler ddim --steps 2 --cell ddim:2 --json " + dir + "/t.json").code,
            2);  // already there
  EXPECT_EQ(run_cli(kSweep + "--sampler ddim --steps 2 --cell ddim --json " + dir + "/t.json").code, 2);  // no STEPS
}

// #41: a second sweep onto a JSON-lines file of results is refused (it appended another grid, which
// made the file one neither --resume nor merge accepts); resuming that file still completes it.
TEST(SweepResume, AnotherSweepOntoAFileOfResultsIsRefusedResumingItIsNot) {
  std::string dir = scratch_dir("jsonl_twice");
  ASSERT_EQ(run_cli(kSweep + "--sampler ddim --steps 2 --jsonl " + dir + "/s.jsonl").code, 0);
  const std::string before = slurp(dir + "/s.jsonl");
  CliResult again = run_cli(kSweep + "--sampler euler --steps 3 --jsonl " + dir + "/s.jsonl");
  EXPECT_EQ(again.code, 2) << again.err;
  EXPECT_NE(again.err.find("already holds results: --resume " + dir + "/s.jsonl completes that sweep"),
            std::string::npos)
      << again.err;
  EXPECT_EQ(slurp(dir + "/s.jsonl"), before);
  CliResult resumed = run_cli(kSweep + "--sampler ddim --steps 2,3 --jsonl " + dir + "/s.jsonl --resume " + dir +
                              "/s.jsonl");
  EXPECT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(read_report(dir + "/s.jsonl").runs.size(), 2u);
}
