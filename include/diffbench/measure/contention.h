#pragma once
/// Contention caught while it happens: whether other processes took this process's cores during a
/// run. The direct figure is the time this process's threads were runnable but waiting for a core
/// (the kernel's run-queue wait, /proc/self/task/*/schedstat); involuntary context switches, CPU
/// time against wall time x threads and the load average at the end are recorded beside it.
#include <cstdint>
#include <optional>
#include <string>

namespace diffbench {

/// The process's counters at one moment.
struct ContentionProbe {
  double wall_s = 0;
  double cpu_s = 0;  ///< user + system, all threads
  std::optional<double> run_queue_wait_s;  ///< summed over the threads alive now (nullopt: no schedstat)
  int64_t involuntary_switches = 0;
};
ContentionProbe contention_probe();

/// What happened between two probes of one run.
struct Contention {
  double wall_s = 0;  ///< the window: the whole run, warm-ups included
  std::optional<double> run_queue_wait_s;  ///< threads runnable but not running, summed
  std::optional<double> wait_fraction;  ///< run_queue_wait_s / (wall_s x threads)
  double cpu_per_wall = 0;  ///< cores used on average: (user + sys) / wall, against `threads`
  int64_t involuntary_switches = 0;
  double load_at_end = 0;  ///< 1-minute load average after the run (-1: unknown)
  int threads = 1;
  bool suspect = false;  ///< other processes took the cores: the timings may be too slow
  std::string why;  ///< what showed it (empty when not suspect)
};

/// Run-queue wait above this share of the run's thread time marks a run as measured under contention.
/// On an idle machine the share stays below 1%; one competing busy process on a 2-core machine
/// lifts it far above (docs/measurement.md, "Contention").
inline constexpr double kSuspectWaitFraction = 0.05;

/// Judge the window between `start` and `end` for a run on `threads` threads of `cores` usable cores.
/// Without schedstat the load average decides instead: above cores + 0.5 at the end.
Contention contention_between(const ContentionProbe& start, const ContentionProbe& end, int threads, int cores,
                              double load_at_end);

/// 1-minute load average now (-1 when unknown).
double load_average_now();

}  // namespace diffbench
