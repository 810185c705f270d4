// Operator profiling through LibTorch's RecordFunction callbacks: a thread-local stack per thread
// gives each event its depth and its children's time, so self time is exact per call.
#include "diffbench/measure/profiler.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <ATen/record_function.h>
#include <nlohmann/json.hpp>

#include "diffbench/core/errors.h"
#include "diffbench/core/setting_names.h"

namespace diffbench {
namespace {

struct Event {
  std::string name;
  uint64_t thread = 0;
  double start_us = 0, duration_us = 0, children_us = 0;
  int depth = 0;
};

struct Recorder {
  std::mutex mutex;
  std::vector<Event> events;
  std::chrono::steady_clock::time_point origin;
  bool active = false;
};
Recorder& recorder() {
  static Recorder r;
  return r;
}

// Open events of this thread, innermost last.
thread_local std::vector<Event> t_open;

double now_us() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - recorder().origin).count();
}

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
  Event e;
  e.name = fn.name();
  e.thread = std::hash<std::thread::id>()(std::this_thread::get_id());
  e.depth = static_cast<int>(t_open.size());
  e.start_us = now_us();
  t_open.push_back(std::move(e));
  return nullptr;
}

void on_end(const at::RecordFunction&, at::ObserverContext*) {
  if (t_open.empty()) return;  // started before profiling began
  Event e = std::move(t_open.back());
  t_open.pop_back();
  e.duration_us = now_us() - e.start_us;
  if (!t_open.empty()) t_open.back().children_us += e.duration_us;
  Recorder& r = recorder();
  std::lock_guard<std::mutex> lock(r.mutex);
  if (r.active) r.events.push_back(std::move(e));
}

}  // namespace

OpProfiler::OpProfiler() {
  Recorder& r = recorder();
  {
    std::lock_guard<std::mutex> lock(r.mutex);
    if (r.active) throw RuntimeError(setting_name("profile") + ": a profiler is already running in this process");
    r.events.clear();
    r.origin = std::chrono::steady_clock::now();
    r.active = true;
  }
  t_open.clear();
  handle_ = at::addGlobalCallback(at::RecordFunctionCallback(on_start, on_end)
                                      .needsInputs(false)
                                      .scopes({at::RecordScope::FUNCTION, at::RecordScope::USER_SCOPE}));
  running_ = true;
}

OpProfiler::~OpProfiler() { stop(); }

void OpProfiler::stop() {
  if (!running_) return;
  at::removeCallback(handle_);
  running_ = false;
  Recorder& r = recorder();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.active = false;
}

std::vector<OpCost> OpProfiler::top(size_t n) const {
  Recorder& r = recorder();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::map<std::string, OpCost> by_name;
  for (const Event& e : r.events) {
    OpCost& c = by_name[e.name];
    c.name = e.name;
    ++c.calls;
    c.self_s += std::max(0.0, e.duration_us - e.children_us) * 1e-6;
    c.total_s += e.duration_us * 1e-6;
  }
  std::vector<OpCost> out;
  for (auto& [name, cost] : by_name) out.push_back(cost);
  std::sort(out.begin(), out.end(), [](const OpCost& a, const OpCost& b) { return a.self_s > b.self_s; });
  if (n > 0 && out.size() > n) out.resize(n);
  return out;
}

std::string OpProfiler::chrome_trace() const {
  Recorder& r = recorder();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::map<uint64_t, int> tids;  // small thread numbers, in order of appearance
  nlohmann::json events = nlohmann::json::array();
  for (const Event& e : r.events) {
    const int tid = tids.emplace(e.thread, static_cast<int>(tids.size())).first->second;
    events.push_back({{"name", e.name},
                      {"cat", "op"},
                      {"ph", "X"},
                      {"ts", e.start_us},
                      {"dur", e.duration_us},
                      {"pid", 0},
                      {"tid", tid},
                      {"args", {{"depth", e.depth}}}});
  }
  return nlohmann::json{{"traceEvents", events}, {"displayTimeUnit", "ms"}}.dump() + "\n";
}

size_t OpProfiler::events() const {
  Recorder& r = recorder();
  std::lock_guard<std::mutex> lock(r.mutex);
  return r.events.size();
}

}  // namespace diffbench
