// Grid files (configs/sweeps/*.json): keys are sweep's flags without the dashes; an unknown key
// or a JSON syntax error is a usage error that names the file, the key or the line and column.
#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "cli/grid_file.h"
#include "cli/help_text.h"
#include "diffbench/core/errors.h"
#include "diffbench/core/files.h"
#include "diffbench/core/names.h"
#include "diffbench/core/json_depth.h"

namespace diffbench::cli {

namespace {

// A grid key's flag ("--steps" for steps or steps-with-dashes); UsageError for a key that is no
// sweep flag (with the nearest one) or that names a file (#42: a grid's json key wrote anywhere).
std::string grid_key_flag(const std::string& path, const std::string& key, const std::vector<std::string>& valid_flags) {
  std::string name = key;
  for (char& c : name) c = c == '-' ? '_' : c;
  std::vector<std::string> keys;  // the valid keys are the long flags, spelled with '_' or '-'
  for (const auto& flag : valid_flags) {
    if (flag.rfind("--", 0) != 0 || flag == "--help" || flag == "--grid") continue;
    keys.push_back(flag.substr(2));
    for (char& c : keys.back()) c = c == '-' ? '_' : c;
  }
  if (std::find(keys.begin(), keys.end(), name) == keys.end()) {
    throw UsageError(
        fmt::format("grid '{}': unknown key '{}'{}: keys are sweep's flags without the dashes "
                    "(no --{}); see diffbench sweep --help",
                    path, key, did_you_mean(name, keys), key));
  }
  std::string flag = "--" + key;
  for (char& c : flag) c = c == '_' ? '-' : c;
  static const std::vector<std::string> outputs = {"--json", "--jsonl", "--csv", "--markdown", "--resume"};
  if (std::find(outputs.begin(), outputs.end(), flag) != outputs.end()) {  // #42: it wrote files anywhere
    throw UsageError(fmt::format("grid '{}': key '{}' names a file; a grid names cells, never files: give {} on the "
                                 "command line",
                                 path, key, flag));
  }
  return flag;
}

}  // namespace

std::vector<std::string> grid_to_args(const std::string& path, const std::vector<std::string>& valid_flags,
                                      const std::vector<std::string>& switches) {
  std::string text = read_file(path, "grid");
  nlohmann::json grid;
  if (const std::string deep = json_nesting_problem(text); !deep.empty())
    throw UsageError(fmt::format("grid '{}' is not a grid: {}", path, deep));
  try {
    grid = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    size_t at = std::min<size_t>(e.byte ? e.byte - 1 : 0, text.size()), line = 1, column = 1;
    for (size_t i = 0; i < at; ++i) text[i] == '\n' ? (++line, column = 1) : ++column;
    throw UsageError(fmt::format("grid '{}' line {} column {}: not valid JSON{}", path, line, column,
                                 at >= text.size() ? " (the file ends early: is it cut off?)" : ""));
  }
  if (!grid.is_object()) throw UsageError(fmt::format("grid '{}' is not a JSON object of flags", path));
  std::vector<std::string> args;
  for (const auto& [key, value] : grid.items()) {
    if (key.empty() || key[0] == '_' || key == "description") continue;
    const std::string flag = grid_key_flag(path, key, valid_flags);
    if (std::find(switches.begin(), switches.end(), flag.substr(2)) != switches.end() && !value.is_boolean()) {
      throw UsageError(
          fmt::format("grid '{}': key '{}' is a switch: give true or false, not {}", path, key, value.dump()));
    }
    auto scalar = [&](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
    if (value.is_boolean()) {
      if (value.get<bool>()) args.push_back(flag);
    } else if (value.is_array() && key == "shape") {
      for (const auto& shape : value) {
        std::vector<std::string> dims;
        for (const auto& d : shape) dims.push_back(scalar(d));
        args.push_back(flag);
        args.push_back(fmt::format("{}", fmt::join(dims, ",")));
      }
    } else if (value.is_array()) {
      std::vector<std::string> items;
      for (const auto& v : value) items.push_back(scalar(v));
      args.push_back(flag);
      args.push_back(fmt::format("{}", fmt::join(items, ",")));
    } else if (!value.is_null()) {
      args.push_back(flag);
      args.push_back(scalar(value));
    }
  }
  return args;
}

}  // namespace diffbench::cli
