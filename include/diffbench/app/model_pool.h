#pragma once
// The models of one `run` or `sweep`: a Session and a Measurer per distinct UNet file, each opened
// once, and which file each sampler runs on (the lecture's table runs lcm and turbo on students
// distilled for them, the other samplers on the teacher).
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "diffbench/app/pipeline.h"
#include "diffbench/measure/session.h"

namespace diffbench {

class ModelPool {
 public:
  /// Opens the main UNet (--unet, --model, else the default model).
  /// `samplers_named`: the command line or grid named the samplers (else a note says a
  /// distilled model's manifest chose its sampler).
  ModelPool(const RunSetup& setup, bool samplers_named);
  const Session& main() const { return slots_.front()->session; }
  const SessionRecord& main_record() const { return slots_.front()->record; }
  Measurer& main_measurer() { return *slots_.front()->measurer; }
  const std::string& main_path() const { return slots_.front()->path; }

  /// The samplers to run when none is named: the one the main UNet was distilled for (its
  /// manifest's "sampler"), else the lecture's six.
  std::vector<std::string> default_samplers() const;
  /// The UNet file `sampler` runs on: --model-for SAMPLER=FILE; else, for the default model only,
  /// the file its manifest names for the sampler (sampler_models); else the main UNet.
  std::string path_for(const std::string& sampler) const;
  /// The session and measurer a spec runs in (by its sampler), opened on first use.
  const Session& session_for(const RunSpec& spec) { return slot(path_for(spec.sampler->name)).session; }
  SessionRecord& record_for(const RunSpec& spec) { return slot(path_for(spec.sampler->name)).record; }
  Measurer& measurer_for(const RunSpec& spec) { return *slot(path_for(spec.sampler->name)).measurer; }

  /// The setup's spec request for `sampler` (with `steps` and `shape` when given: a sweep's cell),
  /// resolved on the model `sampler` runs on (resolve(): flag, else manifest, else sampler default).
  RunSpec spec(const std::string& sampler, std::optional<int> steps, const std::vector<int64_t>& shape,
               std::vector<std::string>* warnings);
  /// `request` (another setup's: ab's side that shares these models) for `sampler`, resolved the same way.
  RunSpec spec_for(SpecRequest request, const std::string& sampler, std::vector<std::string>* warnings);

 private:
  struct Slot {
    std::string path;
    Session session;
    SessionRecord record;  ///< what opening it measured, and its cold forward
    std::unique_ptr<Measurer> measurer;
    bool noted = false;  ///< what the manifest supplied is said and recorded (JSON context)
  };
  Slot& slot(const std::string& path);

  RunSetup setup_;
  bool samplers_named_;
  std::vector<std::unique_ptr<Slot>> slots_;  ///< stable addresses: a Measurer holds its Session
};

/// `items` without repeats, in first-seen order (a warning each model's config repeats is said once).
std::vector<std::string> unique(const std::vector<std::string>& items);

}  // namespace diffbench
