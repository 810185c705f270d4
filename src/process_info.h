#pragma once
// Facts about this process the runner records per run: CPU time and peak resident memory.
#include <cstdint>

namespace diffbench {

/// User and system CPU time of the whole process so far, in seconds.
struct CpuTimes {
  double user = 0, sys = 0;
};
CpuTimes cpu_times();

/// Reset the kernel's resident-memory high-water mark (Linux: 5 > /proc/self/clear_refs);
/// false where that is not possible (then only the process-wide peak can be read).
bool reset_peak_rss();

/// Peak resident memory since the last reset (VmHWM), or the process's peak when `after_reset` is false.
int64_t peak_rss_bytes(bool after_reset);

}  // namespace diffbench
