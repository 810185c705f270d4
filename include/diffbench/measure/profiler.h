#pragma once
/// --profile: every operator LibTorch dispatches while profiling is on (RecordFunction callbacks,
/// available in every LibTorch), with wall start and end on its thread; written as a Chrome/Perfetto
/// trace and summed per operator into self and total time.
#include <cstdint>
#include <string>
#include <vector>

namespace diffbench {

/// One operator's share of a profiled run.
struct OpCost {
  std::string name;  ///< "aten::convolution"
  int64_t calls = 0;
  double self_s = 0;  ///< its own time, without the operators it called
  double total_s = 0;  ///< with them
};

/// Profiling is on from construction until stop() (or destruction). One at a time per process.
class OpProfiler {
 public:
  OpProfiler();
  ~OpProfiler();
  OpProfiler(const OpProfiler&) = delete;
  OpProfiler& operator=(const OpProfiler&) = delete;
  void stop();

  /// Every operator by self time, most expensive first (the first `n`; 0: all).
  std::vector<OpCost> top(size_t n = 0) const;
  /// The events as Chrome trace JSON (chrome://tracing, ui.perfetto.dev).
  std::string chrome_trace() const;
  /// Events recorded (tests).
  size_t events() const;

 private:
  uint64_t handle_ = 0;
  bool running_ = false;
};

}  // namespace diffbench
