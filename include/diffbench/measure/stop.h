#pragma once
/// Stopping on a signal: the handler records it, the runner checks after every step and keeps what
/// was finished.

namespace diffbench {

/// Set by signal handlers; checked after every step.
void request_stop(int signal_number);
/// The signal that asked to stop, or 0.
int stop_requested();

}  // namespace diffbench
