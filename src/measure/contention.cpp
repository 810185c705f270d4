// Contention during a run, from the kernel's own accounting (see contention.h).
#include "diffbench/measure/contention.h"

#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "core/clock.h"

namespace diffbench {

namespace {

// Sum of the second field of /proc/self/task/<tid>/schedstat (ns spent runnable on a run queue).
std::optional<double> run_queue_wait_now() {
  DIR* tasks = opendir("/proc/self/task");
  if (!tasks) return std::nullopt;
  double total_ns = 0;
  bool any = false;
  while (const dirent* e = readdir(tasks)) {
    if (e->d_name[0] == '.') continue;
    const std::string path = std::string("/proc/self/task/") + e->d_name + "/schedstat";
    FILE* f = std::fopen(path.c_str(), "r");
    if (!f) continue;  // the thread ended meanwhile
    unsigned long long on_cpu = 0, waiting = 0;
    if (std::fscanf(f, "%llu %llu", &on_cpu, &waiting) == 2) {
      total_ns += double(waiting);
      any = true;
    }
    std::fclose(f);
  }
  closedir(tasks);
  if (!any) return std::nullopt;
  return total_ns * 1e-9;
}

}  // namespace

ContentionProbe contention_probe() {
  ContentionProbe p;
  p.wall_s = now_s();
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) {
    p.cpu_s = double(usage.ru_utime.tv_sec) + double(usage.ru_stime.tv_sec) +
              1e-6 * double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
    p.involuntary_switches = usage.ru_nivcsw;
  }
  p.run_queue_wait_s = run_queue_wait_now();
  return p;
}

double load_average_now() {
  double load[1] = {0};
  return getloadavg(load, 1) == 1 ? load[0] : -1;
}

Contention contention_between(const ContentionProbe& start, const ContentionProbe& end, int threads, int cores,
                              double load_at_end) {
  Contention c;
  c.threads = threads < 1 ? 1 : threads;
  c.wall_s = end.wall_s - start.wall_s;
  c.involuntary_switches = end.involuntary_switches - start.involuntary_switches;
  c.load_at_end = load_at_end;
  if (c.wall_s <= 0) return c;
  c.cpu_per_wall = (end.cpu_s - start.cpu_s) / c.wall_s;
  const std::string figures =
      fmt::format("{:.2f} cores used of {} thread(s), {} involuntary context switches, load {:.2f} at the end",
                  c.cpu_per_wall, c.threads, c.involuntary_switches, c.load_at_end);
  if (start.run_queue_wait_s && end.run_queue_wait_s) {
    // A thread started during the run brings its whole wait; never below zero either way.
    c.run_queue_wait_s = std::max(0.0, *end.run_queue_wait_s - *start.run_queue_wait_s);
    c.wait_fraction = *c.run_queue_wait_s / (c.wall_s * c.threads);
    c.suspect = *c.wait_fraction > kSuspectWaitFraction;
    if (c.suspect) {
      c.why = fmt::format("its threads waited {:.0f}% of their time for a core ({:.3f} s over {:.3f} s; {})",
                          100 * *c.wait_fraction, *c.run_queue_wait_s, c.wall_s, figures);
    }
    return c;
  }
  c.suspect = cores > 0 && load_at_end > cores + 0.5;
  if (c.suspect) c.why = fmt::format("the load average exceeded the {} usable core(s) ({})", cores, figures);
  return c;
}

}  // namespace diffbench
