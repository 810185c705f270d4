#pragma once
// The models of one `run` or `sweep`: a Session and a Measurer per distinct UNet file, each opened
// once, and which file each sampler runs on (the lecture's table runs lcm and turbo on students
// distilled for them, the other samplers on the teacher).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/pipeline.h"

namespace diffbench::cli {

class ModelPool {
 public:
  /// Opens the main UNet (--unet, else the default model) and checks --model-for.
  /// `samplers_named`: the command line or grid named the samplers (else a note says a
  /// distilled model's manifest chose its sampler).
  ModelPool(const RunOptions& o, bool samplers_named);
  Session& main() { return slots_.front()->session; }
  Measurer& main_measurer() { return *slots_.front()->measurer; }
  const std::string& main_path() const { return slots_.front()->path; }

  /// The samplers to run when none is named: the one the main UNet was distilled for (its
  /// manifest's "sampler"), else the lecture's six.
  std::vector<std::string> default_samplers() const;
  /// The UNet file `sampler` runs on: --model-for SAMPLER=FILE; else, for the default model only,
  /// the file its manifest names for the sampler (sampler_models); else the main UNet.
  std::string path_for(const std::string& sampler) const;
  /// The session and measurer a spec runs in (by its sampler), opened on first use.
  Session& session_for(const RunSpec& spec) { return slot(path_for(spec.sampler)).session; }
  Measurer& measurer_for(const RunSpec& spec) { return *slot(path_for(spec.sampler)).measurer; }

  /// A resolved spec on the model `sampler` runs on. Where no flag says otherwise, the model's
  /// manifest gives the scheduler config (for every sampler: it is the model's schedule) and the
  /// steps of the sampler it was distilled for.
  RunSpec spec(const std::string& sampler, int steps, const std::vector<int64_t>& shape,
               std::vector<std::string>* warnings);

 private:
  struct Slot {
    std::string path;
    Session session;
    std::unique_ptr<Measurer> measurer;
    bool noted = false;  ///< what the manifest supplied is said and recorded (JSON context)
  };
  Slot& slot(const std::string& path);
  SchedulerConfig config_for(Slot& s, std::vector<std::string>* warnings);
  void check_against_model(const Slot& s, const SchedulerConfig& c) const;

  RunOptions o_;
  bool samplers_named_;
  std::map<std::string, std::string> model_for_;  ///< --model-for
  std::vector<std::unique_ptr<Slot>> slots_;  ///< stable addresses: a Measurer holds its Session
};

/// `items` without repeats, in first-seen order (a warning each model's config repeats is said once).
std::vector<std::string> unique(const std::vector<std::string>& items);

/// "lcm=models/digits/lcm.pt" items -> sampler -> file; UsageError for a bad item, an unknown
/// sampler or a sampler given twice.
std::map<std::string, std::string> parse_model_for(const std::vector<std::string>& items);

}  // namespace diffbench::cli
