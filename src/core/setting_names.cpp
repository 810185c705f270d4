// The one place that decides how a setting is named in the library's messages.
#include "diffbench/core/setting_names.h"

#include <atomic>

namespace diffbench {
namespace {

std::atomic<SettingNamer> g_namer{nullptr};

}  // namespace

void set_setting_namer(SettingNamer namer) { g_namer.store(namer); }

std::string setting_name(std::string_view field) {
  SettingNamer namer = g_namer.load();
  return namer ? namer(field) : std::string(field);
}

}  // namespace diffbench
