// Results already measured are never lost to an output path (#41): a second run naming the same
// report keeps the first as NAME.~1~, NAME.~2~ (and says so); an output that is one of the
// command's inputs is refused before anything runs.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <string>

#include "cli_runner.h"
#include "diffbench/core/files.h"

using namespace diffbench;
using namespace diffbench::testing;

namespace {

bool output_exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

const std::string kOutputsRun = "--unet " + kModels + "tiny.pt --threads 1 --sampler ddim --shape 1,4,8,8 --repeat 1 -q ";

}  // namespace

TEST(Outputs, ASecondRunKeepsTheFirstRunsReportBesideItsOwn) {
  const std::string dir = scratch_dir("outputs_keep");
  ASSERT_EQ(run_cli(kOutputsRun + "--steps 2 --json " + dir + "/r.json").code, 0);
  CliResult second = run_cli(kOutputsRun + "--steps 3 --json " + dir + "/r.json");
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_NE(second.err.find("note: '" + dir + "/r.json' held earlier results: kept as '" + dir + "/r.json.~1~'"),
            std::string::npos)
      << second.err;
  EXPECT_EQ(nlohmann::json::parse(slurp(dir + "/r.json.~1~"))["runs"][0]["config"]["steps"], 2);
  EXPECT_EQ(nlohmann::json::parse(slurp(dir + "/r.json"))["runs"][0]["config"]["steps"], 3);
  ASSERT_EQ(run_cli(kOutputsRun + "--steps 4 --json " + dir + "/r.json").code, 0);
  EXPECT_EQ(nlohmann::json::parse(slurp(dir + "/r.json.~2~"))["runs"][0]["config"]["steps"], 3);  // the next free number
  // A sweep's --json and compare's --json keep theirs the same way; a file that is not diffbench's is replaced.
  write_file_atomically(dir + "/notes.json", "{\"mine\": 1}\n");
  run_cli("compare -q " + dir + "/r.json.~1~ " + dir + "/r.json --json " + dir + "/notes.json");
  EXPECT_FALSE(output_exists(dir + "/notes.json.~1~"));
  run_cli("compare -q " + dir + "/r.json.~1~ " + dir + "/r.json --json " + dir + "/notes.json");
  EXPECT_EQ(nlohmann::json::parse(slurp(dir + "/notes.json.~1~"))["kind"], "compare");
  ASSERT_EQ(run_cli("sweep -q --unet " + kModels + "tiny.pt --threads 1 --sampler ddim --steps 2 --shape 1,4,8,8 "
                    "--repeat 1 --json " + dir + "/s.json").code, 0);
  ASSERT_EQ(run_cli("sweep -q --unet " + kModels + "tiny.pt --threads 1 --sampler ddim --steps 2 --shape 1,4,8,8 "
                    "--repeat 1 --json " + dir + "/s.json").code, 0);
  EXPECT_TRUE(output_exists(dir + "/s.json.~1~"));
}

TEST(Outputs, AnOutputThatIsAnInputIsRefusedBeforeAnythingRuns) {
  const std::string dir = scratch_dir("outputs_input");
  ASSERT_EQ(run_cli(kOutputsRun + "--steps 2 --json " + dir + "/a.json").code, 0);
  ASSERT_EQ(run_cli(kOutputsRun + "--steps 2 --json " + dir + "/b.json").code, 0);
  const std::string before = slurp(dir + "/b.json");
  for (const std::string& args : {"compare " + dir + "/a.json " + dir + "/b.json --json " + dir + "/b.json",
                                  "compare " + dir + "/a.json " + dir + "/b.json --markdown " + dir + "/a.json",
                                  "history " + dir + "/a.json " + dir + "/b.json --json " + dir + "/a.json"}) {
    CliResult r = run_cli(args);
    EXPECT_EQ(r.code, 2) << args << r.err;
    EXPECT_NE(r.err.find("is also an input: writing onto it would destroy it; name another file"), std::string::npos)
        << r.err;
  }
  EXPECT_EQ(slurp(dir + "/b.json"), before);
  EXPECT_FALSE(output_exists(dir + "/b.json.~1~"));
}

TEST(Outputs, CompareAbAndHistoryJsonValidateAgainstTheSchemaFile) {
  // docs/diffbench.schema.json covers every JSON output by its `kind` (#41: only run reports were).
  const std::string dir = scratch_dir("outputs_schema");
  const std::string tiny = "--unet " + kModels + "tiny.pt --threads 1 --sampler ddim --steps 2 --shape 1,4,8,8 ";
  ASSERT_EQ(run_cli(tiny + "-q --repeat 3 --json " + dir + "/a.json").code, 0);
  ASSERT_EQ(run_cli(tiny + "-q --repeat 3 --json " + dir + "/b.json").code, 0);
  run_cli("compare -q " + dir + "/a.json " + dir + "/b.json --json " + dir + "/compare.json");
  run_cli("ab -q --max-blocks 7 --json " + dir + "/ab.json -- " + tiny + "--repeat 1");
  run_cli("history -q " + dir + "/a.json " + dir + "/b.json --json " + dir + "/history.json");
  auto valid = [](const std::string& file) {
    const std::string check = DIFFBENCH_PYTHON " -c \"import json, jsonschema; jsonschema.validate(json.load(open('" +
                              file + "')), json.load(open('" DIFFBENCH_SOURCE_DIR "/docs/diffbench.schema.json')))\"" +
                              " 2>/dev/null";
    return std::system(check.c_str()) == 0;
  };
  for (const char* name : {"a", "compare", "ab", "history"}) {
    const std::string file = dir + "/" + name + ".json";
    EXPECT_TRUE(valid(file)) << file;
    auto doc = nlohmann::json::parse(slurp(file));
    EXPECT_EQ(doc["schema_version"], 2) << name;
    EXPECT_EQ(doc["kind"], std::string(name) == "a" ? "run" : name) << name;
  }
  // And the schema holds each kind to its own fields: an ab report without its cells is not valid.
  auto ab = nlohmann::json::parse(slurp(dir + "/ab.json"));
  ab.erase("cells");
  write_file_atomically(dir + "/broken.json", ab.dump());
  EXPECT_FALSE(valid(dir + "/broken.json"));
}

TEST(Outputs, AFileNameThatIsNotUtf8IsWrittenAndRecordedReplaced) {
  // #42: a non-UTF-8 byte in a path (recorded in the report's command line) failed every JSON write.
  const std::string dir = scratch_dir("outputs_utf8");
  const std::string name = dir + "/r\xff.json";
  CliResult r = run_cli(kOutputsRun + "--steps 2 --json '" + name + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  auto doc = nlohmann::json::parse(slurp(name));
  EXPECT_NE(doc["context"]["command_line"].dump().find("r\xef\xbf\xbd.json"), std::string::npos);  // U+FFFD
}
