#pragma once
/// How the library names a setting in its messages (errors, warnings, notes). By default a setting
/// is named by its field (`steps`, `guidance_scale`, `vae_tiling`), so a program embedding the
/// library is told about its own fields, never about a command-line flag. A front end installs a
/// namer once, before any work, to name the setting the way its users set it (the CLI:
/// `--steps`, `--guidance-scale`). Not meant to change while runs are in flight.
#include <string>
#include <string_view>

namespace diffbench {

using SettingNamer = std::string (*)(std::string_view field);

/// Install `namer` (nullptr: back to the field names).
void set_setting_namer(SettingNamer namer);

/// `field` as the installed namer names it.
std::string setting_name(std::string_view field);

}  // namespace diffbench
