#pragma once
/// Error types and exit codes shared by the library and the CLI.
#include <exception>
#include <stdexcept>
#include <string>

namespace diffbench {

/// Process exit codes (documented in README.md, "Exit codes").
enum ExitCode : int {
  kExitOk = 0,  ///< success
  kExitFailure = 1,  ///< runtime failure: a model, file or device problem
  kExitUsage = 2,  ///< bad flags or values: nothing was run
  kExitRegression = 3,  ///< `compare` / `ab`: a run is significantly slower
  kExitUndecided = 4,  ///< `compare` / `ab`: nothing matched, or too few figures to decide (--allow-undecided: 0)
  kExitFailedRun = 5,  ///< `compare` / `ab`: a run of the new side failed, went non-finite or was interrupted
  kExitSigint = 130,  ///< stopped by SIGINT (finished results were written)
  kExitSigterm = 143,  ///< stopped by SIGTERM (finished results were written)
};

/// The user asked for something impossible (flag, value, name, config key): exit 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Something failed while doing what was asked (model, file, device): exit 1.
struct RuntimeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A run on the side a gate judges (ab's new side) failed, was killed or wrote no report: exit 5,
/// so a broken new side never passes the gate.
struct FailedRunError : RuntimeError {
  using RuntimeError::RuntimeError;
};

/// A model raised inside forward while running. The run is recorded as failed at the step it
/// reached (as for NaN) and the other runs go on: exit 1. (An output of the wrong shape, dtype or
/// type is a property of the file, found at its first call, and stays a one-line RuntimeError.)
struct ModelError : RuntimeError {
  using RuntimeError::RuntimeError;
};

/// A model produced NaN or Inf at a given step.
struct NonFiniteError : RuntimeError {
  NonFiniteError(const std::string& what, int step) : RuntimeError(what), step(step) {}
  int step;  ///< 0-based step index at which the latents stopped being finite
};

/// The run was stopped by a signal; finished results are still reported.
struct Interrupted : std::runtime_error {
  explicit Interrupted(int signal_number) : std::runtime_error("interrupted"), signal_number(signal_number) {}
  int signal_number;
};

/// An exception's text cut to its first line, without LibTorch's backtrace.
std::string one_line(const std::exception& e);

}  // namespace diffbench
