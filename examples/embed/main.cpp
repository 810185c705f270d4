// diffbench as a library: load a TorchScript UNet, time a sampler on it, print what was measured.
//   embed UNET.pt [SAMPLER] [STEPS]
#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>

#include <diffbench/models/model.h>
#include <diffbench/measure/runner.h>
#include <diffbench/measure/session.h>
#include <diffbench/measure/resolve.h>
#include <diffbench/core/statistics.h>

// A step count, or a one-line usage error (never std::stoi's bare "stoi").
int steps_of(const std::string& text) {
  size_t used = 0;
  int steps = 0;
  try {
    steps = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || steps < 1)
    throw std::invalid_argument("STEPS must be a whole number >= 1, got '" + text + "'");
  return steps;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: embed UNET.pt [SAMPLER] [STEPS]\n");
    return 2;
  }
  try {
    diffbench::SpecRequest request;  // what this program asks; resolve() fills in the rest
    request.sampler = argc > 2 ? argv[2] : "ddim";
    request.steps = argc > 3 ? steps_of(argv[3]) : 10;
    request.warmup = 1;
    request.repeat = 3;
    diffbench::Session session;
    // This example runs unconditional UNets: forward(sample, timestep). A conditional one (such as
    // the shipped digit teacher) also needs its conditioning, which the CLI reads from the manifest.
    session.unet = std::make_unique<diffbench::ScriptModel>(argv[1], diffbench::ModelRole::unet, std::vector<int>{2},
                                                            session.device, session.dtype);
    session.manifest = diffbench::parse_manifest(session.unet->metadata(), argv[1]);
    // Defaults filled (the request's, else the manifest's, else the sampler's), every check made.
    const diffbench::RunSpec spec = diffbench::resolve(session, request).spec;
    diffbench::SessionRecord record;  // what this session measured: here, its cold first forward
    diffbench::RunResult result = diffbench::run(session, record, spec);
    std::vector<double> totals;
    for (const auto& repeat : result.repeats) totals.push_back(repeat.total_s);
    std::printf("%s, %d steps: %s, median %.2f ms per run over %zu repeats\n", spec.sampler.c_str(),
                result.plan.steps(), diffbench::status_name(result.status), 1e3 * diffbench::median(totals),
                totals.size());
    return result.status == diffbench::RunStatus::ok ? 0 : 1;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "error: %s; usage: embed UNET.pt [SAMPLER] [STEPS]\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
