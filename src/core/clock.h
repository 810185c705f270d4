#pragma once
// The one clock every measurement reads: monotonic, in seconds.
#include <chrono>

namespace diffbench {

inline double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace diffbench
