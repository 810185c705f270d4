#pragma once
// The regression gate's options and verdict, shared by `compare` and `ab`.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/options.h"

#include "diffbench/plans/sweep.h"

namespace diffbench::cli {

void add_gate_options(CLI::App& app, GateOptions& o, bool paired);
/// UsageError for bad gate options (before any work).
void check_gate_options(const GateOptions& o);
/// Compare two reports, print and write the outputs; the exit code (0, 3 regression, 4 undecided).
int run_gate(const Report& base, const Report& updated, const GateOptions& o);
/// --ignore's comma-separated groups, each checked against ignorable_key_groups().
std::vector<std::string> ignore_groups(const std::string& text);

}  // namespace diffbench::cli
