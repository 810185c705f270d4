// CPU time, per-run peak memory, process identity, and hyperfine-style warnings about noise.
#include "diffbench/measure/process_info.h"

#include <sys/resource.h>
#ifdef __GLIBC__
#include <malloc.h>
#include <sched.h>
#endif
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "diffbench/core/statistics.h"
#include "diffbench/core/setting_names.h"

namespace diffbench {

CpuTimes cpu_times() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) * 1e-6; };
  return {seconds(usage.ru_utime), seconds(usage.ru_stime)};
}

// Linux keeps a resident-memory high-water mark (VmHWM) that writing 5 to clear_refs resets, so
// each run's peak is its own, not the largest earlier run's. False where that is not possible.
bool reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  if (!clear) return false;
  clear << "5";
  clear.flush();
  return clear.good();
}

// A "VmXXX:" line of /proc/self/status in bytes; -1 where there is none.
static int64_t status_bytes(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == field) {
      int64_t kib = 0;
      status >> kib;
      return kib * 1024;
    }
    status.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return -1;
}

int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
}

int pin_to_one_cpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
  int last = -1;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) last = cpu;
  }
  if (last < 0) return -1;
  CPU_ZERO(&set);
  CPU_SET(last, &set);
  return sched_setaffinity(0, sizeof set, &set) == 0 ? last : -1;
}

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

void release_free_memory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

int64_t page_faults() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return int64_t(usage.ru_minflt) + int64_t(usage.ru_majflt);
}

// glibc returns a freed block above its mmap threshold (128 KiB at first, raised as such blocks
// are freed) to the kernel and trims the heap's top past twice that, so a fresh process faults its
// activations in again at every step, and how often depends on the order its first allocations
// came in: on a VM each fault is slow, and a process's level moved by 20-30% (docs/measurement.md).
bool keep_freed_memory() {
#ifdef __GLIBC__
  return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max()) == 1;
#else
  return false;
#endif
}

int64_t current_rss_bytes() { return std::max<int64_t>(0, status_bytes("VmRSS:")); }

int64_t peak_rss_bytes(bool after_reset) {
  if (after_reset) {
    const int64_t hwm = status_bytes("VmHWM:");
    if (hwm >= 0) return hwm;
  }
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // the process's peak since it started
}

std::string new_process_id() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  auto ns = std::chrono::system_clock::now().time_since_epoch() / std::chrono::nanoseconds(1);
  return fmt::format("{}-{}-{}", host, getpid(), ns);
}

std::vector<std::string> timing_warnings(const std::vector<double>& totals) {
  std::vector<std::string> out;
  const size_t n = totals.size();
  if (n >= 3) {
    std::vector<double> rest(totals.begin() + 1, totals.end());
    double rest_median = median(rest);
    if (rest_median > 0 && totals[0] > 1.5 * rest_median) {
      out.push_back(
          fmt::format("the first counted run took {:.1f}x the median of the others ({:.4g} s vs {:.4g} s): "
                      "caches or the model's profiling were not warm; use {} {} or more",
                      totals[0] / rest_median, totals[0], rest_median, setting_name("warmup"), 2));
    }
  }
  if (n >= 5) {
    double m = median(totals);
    std::vector<double> deviations;
    for (double t : totals) deviations.push_back(std::abs(t - m));
    double mad = median(deviations);
    size_t outliers = 0;
    for (double t : totals) outliers += mad > 0 && 0.6745 * std::abs(t - m) / mad > 3.5;
    if (outliers) {
      out.push_back(
          fmt::format("{} of {} counted runs are statistical outliers (modified z-score > 3.5): another "
                      "process or the machine interfered; rerun on a quiet machine",
                      outliers, n));
    }
  }
  return out;
}

std::vector<std::string> machine_warnings(int threads, unsigned cores, double load_average) {
  std::vector<std::string> out;
  if (cores > 0 && load_average > 0.5 * cores) {
    out.push_back(
        fmt::format("the load average was {:.2f} on {} core(s) at start: other processes compete for "
                    "the CPU and the timings will be slower and noisier",
                    load_average, cores));
  }
  double free_cores = std::max(1.0, double(cores) - std::floor(load_average));
  if (threads > free_cores) {
    out.push_back(fmt::format(
        "{} {} is more than the {:g} free core(s) ({} core(s), load {:.2f}): threads "
        "will wait for each other; use {} {:g}",
        setting_name("threads"), threads, free_cores, cores, load_average, setting_name("threads"), free_cores));
  }
  return out;
}

}  // namespace diffbench
