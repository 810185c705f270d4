#pragma once
// Help for the command line: did-you-mean, flag lists, one-line CLI11 errors, completion.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace diffbench::cli {

/// Which subcommand was parsed ("" for the main command), for error hints.
std::string parsed_command_name(const CLI::App& app);

/// Every long and short flag of a (sub)command ("--steps", "-q", ...).
std::vector<std::string> long_flags(const CLI::App& app);

/// CLI11's "arguments were not expected" as one line with a did-you-mean and the right --help.
std::string unexpected_arguments_message(const CLI::App& app, const std::string& clis_message);

/// A bash completion script generated from the CLI definition.
std::string completion_script(const CLI::App& app);

}  // namespace diffbench::cli
