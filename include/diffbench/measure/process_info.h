#pragma once
/// Facts about this process: its identity, CPU time, resident memory, cores, and warnings about the
/// machine and a run's timings that the reports carry.
#include <cstdint>
#include <string>
#include <vector>

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

/// Page faults of this process so far (minor and major, every thread): a fault is the kernel
/// handing the process a page, which a repeated run that reuses its memory does not need.
int64_t page_faults();

/// Keep freed heap memory in the process (glibc: no allocation served by mmap, the heap's top never
/// trimmed), so that a repeated run reuses pages already faulted in instead of asking the kernel
/// for them at every step. False where the allocator is not glibc's (nothing changed).
bool keep_freed_memory();

/// Restrict this thread (and the threads it starts later) to one CPU: the last of its affinity
/// mask, away from CPU 0 where interrupts and housekeeping usually land. The CPU, or -1 when the
/// kernel refused.
int pin_to_one_cpu();
/// The CPUs this process may run on (its affinity mask), in order; empty where it cannot be read.
std::vector<int> allowed_cpus();

/// Resident memory now (VmRSS; 0 where unknown).
int64_t current_rss_bytes();

/// Peak resident memory since the last reset (VmHWM), or the process's peak when `after_reset` is false.
int64_t peak_rss_bytes(bool after_reset);

/// "host-pid-nanoseconds": a process identity no other process on any host shares.
std::string new_process_id();

/// Hyperfine-style warnings on a run's counted totals: a first run much slower than the rest,
/// statistical outliers (modified z-score above 3.5, Iglewicz & Hoaglin).
std::vector<std::string> timing_warnings(const std::vector<double>& totals);

/// Warnings about the machine at start: a high load average, more threads than free cores.
std::vector<std::string> machine_warnings(int threads, unsigned cores, double load_average);

}  // namespace diffbench
