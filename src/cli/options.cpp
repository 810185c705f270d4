// The process-wide state every command reads (options.h).
#include "cli/options.h"

namespace diffbench::cli {

std::vector<std::string> g_command_line;
bool g_verbose = false;

}  // namespace diffbench::cli
