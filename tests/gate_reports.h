#pragma once
// Made-up reports for the gate's tests (test_gate.cpp, test_gate_decisions.cpp): one run of a
// cell with its process and total_s samples, a report around runs, and writing one to a file.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "diffbench/core/files.h"

namespace diffbench::testing {

// One run of a synthetic report: the cell, its process, its total_s samples.
inline nlohmann::json run_of(int steps, const std::string& process, const std::vector<double>& totals,
                             const std::string& unet = std::string(64, 'a'), int threads = 2) {
  nlohmann::json reps = nlohmann::json::array();
  for (double t : totals) reps.push_back({{"total_s", t}});
  return {{"config",
           {{"sampler", "ddim"},
            {"steps", steps},
            {"shape", {1, 4, 8, 8}},
            {"seed", 0},
            {"unet_sha256", unet},
            {"threads", threads},
            {"dtype", "fp32"},
            {"device", "cpu"}}},
          {"status", "ok"},
          {"process", {{"id", process}}},
          {"repeats", reps},
          {"stats", {{"total_s", {{"samples", totals}}}}}};
}

inline nlohmann::json report_of(const std::vector<nlohmann::json>& runs, int threads = 2) {
  return {{"schema_version", 2}, {"context", {{"threads", threads}, {"device", "cpu"}}}, {"runs", runs}};
}

inline std::string write(const std::string& dir, const std::string& name, const nlohmann::json& doc) {
  write_file_atomically(dir + "/" + name, doc.dump());
  return dir + "/" + name;
}

inline const std::vector<double> kFive = {1.00, 1.01, 0.99, 1.02, 0.98};

}  // namespace diffbench::testing
