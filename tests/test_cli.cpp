// The real binary, end to end: outputs, determinism, and exit codes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <ATen/ATen.h>
#include <torch/version.h>

#include "cli_runner.h"
#include "diffbench/core/files.h"
#include "diffbench/core/npy.h"
#include "diffbench/core/sha256.h"

using namespace diffbench;
using namespace diffbench::testing;

static at::Tensor read_npy(const std::string& path) { return from_npy(slurp(path), path); }

TEST(Cli, DdimWritesJsonWithTheRequiredFieldsAndReadableLatents) {
  std::string dir = scratch_dir("json");
  CliResult r = run_cli(kTiny + "--sampler ddim --steps 10 --seed 3 --repeat 2 --json " + dir +
                        "/r.json --save-latents " + dir + "/x.npy");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(slurp(dir + "/r.json"));
  EXPECT_EQ(j["schema_version"], 2);
  for (const char* key : {"diffbench_version", "git_sha", "libtorch_version", "device", "dtype", "threads", "cpu_model",
                          "date", "blas"}) {
    EXPECT_TRUE(j["context"].contains(key)) << key;
  }
  ASSERT_EQ(j["runs"].size(), 1u);
  const auto& run = j["runs"][0];
  EXPECT_EQ(run["config"]["sampler"], "ddim");
  EXPECT_EQ(run["config"]["steps"], 10);
  EXPECT_EQ(run["config"]["seed"], 3);
  EXPECT_EQ(run["config"]["shape"], (std::vector<int>{1, 4, 16, 16}));  // from the model's metadata
  EXPECT_EQ(run["config"]["unet_sha256"], sha256_file(kModels + "tiny.pt"));
  EXPECT_EQ(run["config"]["scheduler_config"]["beta_schedule"], "scaled_linear");
  EXPECT_EQ(run["timesteps"].size(), 10u);
  EXPECT_EQ(run["timesteps"][0], 901);
  ASSERT_EQ(run["repeats"].size(), 2u);
  for (const auto& rep : run["repeats"]) {
    ASSERT_EQ(rep["step_s"].size(), 10u);
    double steps = 0;
    for (double s : rep["step_s"]) steps += s;
    EXPECT_LE(steps, rep["total_s"].get<double>());
    for (size_t i = 0; i < 10; ++i) EXPECT_LE(rep["model_s"][i].get<double>(), rep["step_s"][i].get<double>());
  }
  EXPECT_EQ(run["stats"]["total_s"]["n"], 2);
  at::Tensor x = read_npy(dir + "/x.npy");
  EXPECT_EQ(x.sizes(), (std::vector<int64_t>{1, 4, 16, 16}));
  EXPECT_TRUE(x.isfinite().all().item<bool>());
}

TEST(Cli, SameSeedSameLatentsOtherSeedOtherLatents) {
  std::string dir = scratch_dir("seed");
  for (const char* name : {"a", "b"}) {
    ASSERT_EQ(run_cli(kTiny + "--sampler euler_a --steps 5 --seed 1 --save-latents " + dir + "/" + name + ".npy").code,
              0);
  }
  ASSERT_EQ(run_cli(kTiny + "--sampler euler_a --steps 5 --seed 2 --save-latents " + dir + "/c.npy").code, 0);
  EXPECT_EQ(slurp(dir + "/a.npy"), slurp(dir + "/b.npy"));
  EXPECT_NE(slurp(dir + "/a.npy"), slurp(dir + "/c.npy"));
}

TEST(Cli, JsonToStdoutIsOnlyJson) {
  CliResult r = run_cli(kTiny + "--sampler dpmpp_2m --steps 4 --json -");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NO_THROW(nlohmann::json::parse(r.out));
}

TEST(Cli, VaeDecodesToPngs) {
  std::string dir = scratch_dir("png");
  CliResult r = run_cli(kTiny + "--sampler lcm --shape 2,4,8,8 --vae " + kModels + "vae_tiny.pt --save-images " + dir +
                        "/img --json " + dir + "/r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* f : {"/img/image_000.png", "/img/image_001.png", "/img/grid.png"})
    EXPECT_EQ(slurp(dir + f).substr(1, 3), "PNG") << f;
  at::Tensor images = from_npy(slurp(dir + "/img/images.npy"), "images.npy");  // the unrounded decode
  EXPECT_EQ(images.sizes(), (at::IntArrayRef{2, 3, 64, 64}));  // vae_tiny upsamples 8x
  EXPECT_LE(images.abs().max().item<double>(), 1.0 + 1e-6);
  auto j = nlohmann::json::parse(slurp(dir + "/r.json"));
  EXPECT_GT(j["runs"][0]["repeats"][0]["vae_s"].get<double>(), 0.0);
  // Batch 1 gets its grid.png too (issue #22: the README promised one).
  ASSERT_EQ(
      run_cli(kTiny + "--sampler lcm --shape 1,4,8,8 --vae " + kModels + "vae_tiny.pt --save-images " + dir + "/one")
          .code,
      0);
  EXPECT_EQ(slurp(dir + "/one/grid.png").substr(1, 3), "PNG");
}

TEST(Cli, GuidanceWithEqualCondAndUncondEqualsTheConditionalModel) {
  std::string dir = scratch_dir("cfg");
  at::Tensor cond = at::randn({1, 8, 32});
  write_file_atomically(dir + "/c.npy", to_npy(cond));
  std::string base = kTiny + "--unet " + kModels + "tiny_cond.pt --sampler ddim --steps 5 --cond " + dir + "/c.npy ";
  ASSERT_EQ(run_cli(base + "--guidance-scale 1 --save-latents " + dir + "/w1.npy").code, 0);
  ASSERT_EQ(run_cli(base + "--uncond " + dir + "/c.npy --guidance-scale 7.5 --save-latents " + dir + "/same.npy").code,
            0);
  CliResult r = run_cli(base + "--guidance-scale 7.5 --save-latents " + dir + "/w75.npy");
  ASSERT_EQ(r.code, 0) << r.err;
  at::Tensor w1 = read_npy(dir + "/w1.npy");
  // u + W (c - u) = c when u = c. The guided run does one forward of batch 2 and the plain run one of
  // batch 1; BLAS blocks them differently, so the two differ by rounding (measured 7e-7 of the largest
  // latent, 19.6). Compare against the scale of the latents, not element by element.
  double scale = w1.abs().max().item<double>();
  double same = (w1 - read_npy(dir + "/same.npy")).abs().max().item<double>();
  double guided = (w1 - read_npy(dir + "/w75.npy")).abs().max().item<double>();
  EXPECT_LT(same, 1e-5 * scale);
  EXPECT_GT(guided, 1e-2 * scale);  // zero uncond: guidance acts
}

TEST(Cli, ThousandStepDdpmRunsAndSaysWhatItDid) {
  CliResult r = run_cli("--unet " + kModels + "tiny.pt --warmup 0 --repeat 1 --threads 1 --sampler ddpm --steps 1000");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("999..0"), std::string::npos) << r.err;
}

TEST(Cli, NoArgumentsRunsTheLectureTable) {
  CliResult r = run_cli("--unet " + kModels + "tiny.pt --warmup 0 --repeat 1 --threads 1");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* name : {"ddpm", "ddim", "dpmpp_2m", "euler_a", "lcm", "turbo", "Speed-up", "1.0x",
                           "Speed-up: ddpm's Total divided by"}) {
    EXPECT_NE(r.out.find(name), std::string::npos) << name << "\n" << r.out;
  }
}

TEST(Cli, TheDefaultModelIsTheTrainedTeacherWithItsManifest) {
  std::string dir = scratch_dir("default_model");
  CliResult r = run_cli("--sampler ddim --steps 2 --warmup 0 --repeat 1 --threads 1 --save-images " + dir +
                        "/img --json " + dir + "/r.json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("note: from the model's manifest"), std::string::npos) << r.err;
  auto doc = nlohmann::json::parse(slurp(dir + "/r.json"));
  const auto& config = doc["runs"][0]["config"];
  EXPECT_NE(config["unet"].get<std::string>().find("models/digits/unet.pt"), std::string::npos) << config["unet"];
  EXPECT_EQ(config["shape"], nlohmann::json({10, 4, 8, 8}));
  for (const char* f : {"/img/image_000.png", "/img/image_009.png", "/img/grid.png"}) {
    EXPECT_EQ(slurp(dir + f).substr(1, 3), "PNG") << f;
  }
}

TEST(Cli, ListAndSchedule) {
  CliResult list = run_cli("list");
  ASSERT_EQ(list.code, 0);
  for (const char* name : {"ddpm", "ddim", "dpmpp_2m", "euler_a", "euler", "lcm", "turbo", "arXiv"}) {
    EXPECT_NE(list.out.find(name), std::string::npos) << name;
  }
  CliResult s = run_cli("schedule --sampler euler --steps 4");
  ASSERT_EQ(s.code, 0) << s.err;
  auto j = nlohmann::json::parse(s.out);
  EXPECT_NEAR(j["init_noise_sigma"].get<double>(), 4.2364, 1e-4);
  EXPECT_EQ(j["schedule"].size(), 4u);
  EXPECT_EQ(j["schedule"][3]["timestep"], 1.0);
  EXPECT_EQ(j["timestep_dtype"], "float32");
}

// Every error: one line starting "error:", the documented exit code, no backtrace.
struct ErrorCase {
  std::string name, args;
  int code;
  std::string message;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << "diffbench " << c.args; }

class CliError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(CliError, OneLineAndTheDocumentedExitCode) {
  const ErrorCase& c = GetParam();
  CliResult r = run_cli(c.args);
  EXPECT_EQ(r.code, c.code) << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("terminate called"), std::string::npos);
  EXPECT_EQ(r.err.find("frame #"), std::string::npos);
}

const std::string kRun = "--warmup 0 --repeat 1 --threads 1 --sampler ddim --steps 4 ";

INSTANTIATE_TEST_SUITE_P(
    All, CliError,
    ::testing::Values(
        // Input files: a path naming no file is exit 2 (change the command), an unusable file 1.
        ErrorCase{"missing_model", kRun + "--unet /nonexistent/unet.pt", 2, "no such file"},
        ErrorCase{"missing_vae", kRun + "--vae /nonexistent/vae.pt", 2, "cannot load VAE '/nonexistent/vae.pt'"},
        ErrorCase{"missing_student", kRun + "-q --sampler lcm --model-for lcm=/nonexistent/lcm.pt", 2, "no such file"},
        ErrorCase{"missing_cond", kRun + "--cond /nonexistent/c.npy", 2, "no such file"},
        ErrorCase{"missing_grid", "sweep --grid /nonexistent/g.json --jsonl /tmp/g.jsonl", 2, "no such file"},
        ErrorCase{"missing_resume", "sweep --resume /nonexistent/s.jsonl --jsonl /tmp/r.jsonl", 2, "no such file"},
        ErrorCase{"missing_compare_input", "compare /nonexistent/a.json /nonexistent/b.json", 2, "no such file"},
        ErrorCase{"missing_merge_input", "merge /nonexistent/a.jsonl -o /tmp/m.json", 2, "no such file"},
        ErrorCase{"directory_model", kRun + "--unet /tmp", 2, "is a directory"},
        ErrorCase{"empty_model", kRun + "--unet /dev/null", 1, "file is empty"},
        ErrorCase{"random_bytes", kRun + "--unet " + kData + "make_bad_models.py", 1, "not a TorchScript file"},
        ErrorCase{"zip_not_torchscript", kRun + "--unet " + kData + "not_torchscript.zip", 1,
                  "not a valid TorchScript file"},
        ErrorCase{"no_forward", kRun + "--unet " + kData + "no_forward.pt", 1, "has no forward method"},
        ErrorCase{"wrong_arity", kRun + "--unet " + kData + "one_arg.pt", 1, "forward takes 1 argument(s)"},
        ErrorCase{"wrong_argument_type", kRun + "--unet " + kData + "int_timestep.pt", 1, "'timestep' has type int"},
        ErrorCase{"wrong_output_shape", kRun + "--shape 1,4,8,8 --unet " + kData + "wrong_shape.pt", 1,
                  "returned shape [1, 3, 8, 8]; expected [1, 4, 8, 8]"},
        ErrorCase{"wrong_output_dtype", kRun + "--shape 1,4,8,8 --unet " + kData + "wrong_dtype.pt", 1,
                  "returned dtype Long"},
        ErrorCase{"non_tensor_output", kRun + "--shape 1,4,8,8 --unet " + kData + "returns_string.pt", 1,
                  "forward returned String"},
        ErrorCase{
            "vae_wrong_arity", kRun + "--vae " + kData + "wrong_shape.pt", 1,
            "VAE '" + kData + "wrong_shape.pt': forward takes 2 argument(s) (sample, timestep); expected (latents)"},
        ErrorCase{"unknown_sampler", "--sampler dpm++", 2, "did you mean 'dpmpp_2m'"},
        ErrorCase{"nan_guidance", "--unet " + kModels + "tiny_cond.pt --sampler ddim --guidance-scale nan", 2,
                  "--guidance-scale must be a finite number >= 0, got nan"},
        ErrorCase{"reversed_betas", "--unet " + kModels + "tiny.pt --sampler ddim --beta-start 0.5 --beta-end 0.1", 2,
                  "--beta-start 0.5 must not exceed --beta-end 0.1"},
        // One rule for thread counts (issue #22): 1 to the cores this process may use.
        ErrorCase{"zero_threads", "--unet " + kModels + "tiny.pt --sampler ddim --threads 0", 2,
                  "--threads 0: use 1 to"},
        ErrorCase{"negative_threads", "--unet " + kModels + "tiny.pt --sampler ddim --threads -3", 2,
                  "--threads -3: use 1 to"},
        ErrorCase{"more_threads_than_cores", "--unet " + kModels + "tiny.pt --sampler ddim --threads 10000", 2,
                  "--threads 10000: use 1 to"},
        ErrorCase{"ablate_zero_threads", "ablate --unet " + kModels + "tiny.pt --toggles threads=0", 2,
                  "needs a positive whole number"},
        ErrorCase{"ablate_more_threads_than_cores", "ablate --unet " + kModels + "tiny.pt --toggles threads=9999", 2,
                  "use 1 to"},
        ErrorCase{"unknown_flag", "--bogus", 2, "--bogus"},
        ErrorCase{"bad_steps_value", "--sampler ddim --steps x", 2, "--steps"},
        ErrorCase{"zero_steps", "--unet " + kModels + "tiny.pt --sampler ddim --steps 0", 2, "at least 1"},
        ErrorCase{"negative_steps", "--unet " + kModels + "tiny.pt --sampler ddim --steps -3", 2, "at least 1"},
        ErrorCase{"too_many_steps", "--unet " + kModels + "tiny.pt --sampler ddim --steps 2000", 2, "at most 1000"},
        ErrorCase{"lcm_beyond_distillation", "--unet " + kModels + "tiny.pt --sampler lcm --steps 60", 2, "at most 50"},
        ErrorCase{"zero_dim_shape", "--sampler ddim --shape 1,4,0,8", 2, "positive"},
        ErrorCase{"three_dim_shape", "--sampler ddim --shape 1,4,8", 2, "B,C,H,W"},
        ErrorCase{"negative_eta", "--unet " + kModels + "tiny.pt --sampler ddim --eta -1", 2, "--eta"},
        ErrorCase{"guidance_without_condition", "--unet " + kModels + "tiny.pt --sampler ddim --guidance-scale 7.5", 2,
                  "needs a conditional UNet"},
        ErrorCase{"cuda_without_cuda", "--sampler ddim --device cuda", 2, "CUDA is not available"},
        ErrorCase{"unknown_device", "--sampler ddim --device tpu", 2, "unknown device"},
        ErrorCase{"unknown_dtype", "--sampler ddim --dtype fp8", 2, "unknown dtype"},
        ErrorCase{"json_in_missing_dir", "--sampler ddim --json /nonexistent/dir/r.json", 2, "does not exist"},
        ErrorCase{"images_without_vae", "--unet " + kModels + "tiny.pt --sampler ddim --save-images /tmp/x", 2,
                  "needs --vae"},
        ErrorCase{"missing_config", "--sampler ddim --config /nonexistent.json", 2, "no such file"},
        ErrorCase{"bad_config_json", "--sampler ddim --config " + kData + "make_bad_models.py", 2,
                  "not valid JSON at line 1"},
        ErrorCase{"unknown_beta_schedule", "--sampler ddim --beta-schedule cosine", 2, "valid: linear, scaled_linear"},
        ErrorCase{"unknown_spacing", "--sampler ddim --timestep-spacing trailng", 2, "did you mean 'trailing'"},
        ErrorCase{"bad_reference", "--sampler ddim --reference dpmpp_2m", 2, "SAMPLER:STEPS"},
        ErrorCase{"two_outputs_on_stdout", "--sampler ddim --json - --csv -", 2, "only one of"},
        ErrorCase{"bad_prediction_type", "--sampler ddim --prediction-type eps", 2, "valid: epsilon"},
        ErrorCase{"ab_with_nothing_to_compare", "ab -q", 2, "ab needs what to compare"},
        ErrorCase{"merge_onto_its_input", "merge /tmp/m_in.jsonl -o /tmp/m_in.jsonl", 2, "is also an input"},
        ErrorCase{"empty_json_name", "--sampler ddim --json \"\"", 2, "--json needs a file name, got an empty one"},
        ErrorCase{"long_file_name", "--sampler ddim --json /tmp/" + std::string(300, 'a'), 2, "is longer than"},
        ErrorCase{"merge_into_json_lines", "merge /nonexistent/a.json -o /tmp/m.jsonl", 2, "not JSON lines"}),
    [](const auto& info) { return info.param.name; });

TEST(Cli, TruncatedTorchScriptIsALoadError) {
  std::string dir = scratch_dir("truncated");
  std::string model = slurp(kModels + "tiny.pt");
  write_file_atomically(dir + "/t.pt", model.substr(0, model.size() / 2));
  CliResult r = run_cli("--sampler ddim --unet " + dir + "/t.pt");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("not a valid TorchScript file"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(Cli, RejectedOutputLeavesNoFile) {
  std::string dir = scratch_dir("nofile");
  CliResult r = run_cli("--sampler nope --json " + dir + "/r.json");
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(slurp(dir + "/r.json").empty());
}

TEST(Cli, ProgressLineOnlyOnATerminalAndNeverInCiOrQuiet) {
  if (std::system("command -v script > /dev/null") != 0) GTEST_SKIP() << "util-linux 'script' not installed";
  if (std::system("script -qec true /dev/null > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "no pseudo-terminal can be made here ('script' failed: is /dev/pts mounted?)";
  }
  // `script` runs the binary on a pseudo-terminal; stderr is then a terminal.
  auto on_tty = [](const std::string& env, const std::string& extra) {
    std::string cmd = "env -u CI " + env + " script -qec \"" + std::string(DIFFBENCH_BIN) + " --unet " + kModels +
                      "tiny.pt --threads 1 --warmup 0 --repeat 2 --sampler ddpm --steps 300 " + extra + "\" /dev/null";
    FILE* pipe = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    while (pipe && fgets(buf, sizeof buf, pipe)) out += buf;
    if (pipe) pclose(pipe);
    return out;
  };
  std::string shown = on_tty("", "");
  EXPECT_NE(shown.find("ETA"), std::string::npos) << shown;
  EXPECT_NE(shown.find("it/s"), std::string::npos);
  EXPECT_EQ(on_tty("CI=true", "").find("ETA"), std::string::npos);
  EXPECT_EQ(on_tty("", "--quiet").find("ETA"), std::string::npos);
  // Not a terminal (the other tests): no progress line in captured stderr.
  CliResult piped =
      run_cli("--unet " + kModels + "tiny.pt --threads 1 --warmup 0 --repeat 1 --sampler ddim --steps 20");
  EXPECT_EQ(piped.err.find("ETA"), std::string::npos);
}
