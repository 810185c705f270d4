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

/// Give freed heap memory back to the kernel (glibc's malloc_trim; a no-op elsewhere), so that the
/// resident size falls to what is in use and the next run's peak above it is its own.
void release_free_memory();

/// The CPUs this process may run on (its affinity mask: taskset and cpusets count), at least 1.
int usable_cores();

/// Restrict this thread (and the threads it starts later) to one CPU: the last of its affinity
/// mask, away from CPU 0 where interrupts and housekeeping usually land. The CPU, or -1 when the
/// kernel refused.
int pin_to_one_cpu();

/// Resident memory now (VmRSS; 0 where unknown).
int64_t current_rss_bytes();

/// Peak resident memory since the last reset (VmHWM), or the process's peak when `after_reset` is false.
int64_t peak_rss_bytes(bool after_reset);

}  // namespace diffbench
