// The stop signal: set by the CLI's signal handlers, read by the runner after every step.
#include "diffbench/measure/stop.h"

#include <atomic>

namespace diffbench {
namespace {

std::atomic<int> g_stop_signal{0};

}  // namespace

void request_stop(int signal_number) { g_stop_signal.store(signal_number); }
int stop_requested() { return g_stop_signal.load(); }

}  // namespace diffbench
