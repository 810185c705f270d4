// `diffbench history` on real reports of the real binary (a gross step the newest reports start)
// and on written series (flat: exit 0; a step in the middle: found, but no regression now).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include <fmt/format.h>

#include "cli_runner.h"
#include "diffbench/core/files.h"

using namespace diffbench;
using namespace diffbench::testing;

namespace {

// A report of one ddim run whose repeats took `seconds`.
void write_report(const std::string& path, double seconds) {
  nlohmann::json run = {{"config", {{"sampler", "ddim"}, {"steps", 20}, {"shape", {1, 4, 8, 8}}, {"seed", 0}}},
                        {"status", "ok"},
                        {"stats", {{"total_s", {{"samples", {seconds, seconds * 1.001, seconds * 0.999}}}}}}};
  write_file_atomically(path, nlohmann::json{{"schema_version", 2}, {"context", {}}, {"runs", {run}}}.dump());
}

}  // namespace

TEST(History, TheNewestReportsStartingASlowdownExit3) {
  std::string dir = scratch_dir("history_real");
  const std::string run = "--unet " + kModels + "tiny.pt --threads 1 --sampler ddim --shape 1,4,8,8 -q --repeat 3 ";
  for (int i = 0; i < 12; ++i) {  // 9 reports at 2 steps, then 3 at 16: the newest three start it
    const std::string file = fmt::format("{}/r{:02d}.json", dir, i);
    ASSERT_EQ(run_cli(run + "--steps " + std::string(i < 9 ? "2" : "16") + " --json " + file).code, 0);
  }
  CliResult r = run_cli("history --ignore steps --json " + dir + "/h.json " + dir);
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("the newest point starts a slowdown of +"), std::string::npos) << r.err;
  auto h = nlohmann::json::parse(slurp(dir + "/h.json"));
  ASSERT_EQ(h["cells"].size(), 1u);
  const auto& points = h["cells"][0]["change_points"];
  ASSERT_GE(points.size(), 1u);
  EXPECT_EQ(points.back()["index"], 9);
  EXPECT_GT(points.back()["low"].get<double>(), 1.0);  // 8x the steps: at least twice the time
  EXPECT_EQ(points.back()["source"], dir + "/r09.json");
}

TEST(History, FlatSeriesPassAndAnOldStepIsReportedNotFailed) {
  std::string dir = scratch_dir("history_written");
  const double flat[] = {1.00, 1.01, 0.99, 1.00, 1.02, 0.98, 1.00, 1.01, 0.99, 1.00};
  std::string files;
  for (int i = 0; i < 10; ++i) {
    write_report(fmt::format("{}/f{}.json", dir, i), flat[i]);
    files += fmt::format(" {}/f{}.json", dir, i);
  }
  CliResult quiet = run_cli("history" + files);
  EXPECT_EQ(quiet.code, 0) << quiet.err;
  EXPECT_NE(quiet.out.find("10 points, 0 change point(s)"), std::string::npos) << quiet.out;
  std::string stepped;
  for (int i = 0; i < 10; ++i) {  // the step is five reports old: history, not a new regression
    write_report(fmt::format("{}/s{}.json", dir, i), flat[i] * (i >= 5 ? 1.2 : 1.0));
    stepped += fmt::format(" {}/s{}.json", dir, i);
  }
  CliResult old = run_cli("history" + stepped);
  EXPECT_EQ(old.code, 0) << old.err;
  EXPECT_NE(old.out.find("at #5 (" + dir + "/s5.json): +"), std::string::npos) << old.out;
}

TEST(History, BadInputsGetOneLine) {
  std::string dir = scratch_dir("history_bad");
  for (const std::string& args :
       std::vector<std::string>{"history", "history " + dir, "history --alpha 2 x.json", "history /no/such.json"}) {
    CliResult r = run_cli(args);
    EXPECT_TRUE(r.code == 1 || r.code == 2) << args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << ": " << r.err;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  }
}
