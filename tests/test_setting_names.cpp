// The library speaks its own language (issue #24): its messages name a setting by its field, and a
// front end that installs a namer (the CLI: flags) gets its own names instead.
#include <gtest/gtest.h>

#include <string>

#include "diffbench/core/errors.h"
#include "diffbench/core/setting_names.h"
#include "diffbench/plans/sweep.h"
#include "diffbench/models/vae_tiling.h"

using namespace diffbench;

namespace {

std::string usage_message(void (*call)()) {
  try {
    call();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no UsageError)";
}

std::string as_option(std::string_view field) { return "option '" + std::string(field) + "'"; }

// Resets the namer however the test ends.
struct NamerGuard {
  explicit NamerGuard(SettingNamer namer) { set_setting_namer(namer); }
  ~NamerGuard() { set_setting_namer(nullptr); }
};

void bad_shard() { parse_shard("3/2"); }
void bad_tiling() { parse_vae_tiling("0"); }

}  // namespace

TEST(SettingNames, TheLibraryNamesTheFieldNeverAFlag) {
  EXPECT_EQ(setting_name("guidance_scale"), "guidance_scale");
  const std::string shard = usage_message(bad_shard), tiling = usage_message(bad_tiling);
  EXPECT_EQ(shard.rfind("shard '3/2': expected I/N", 0), 0u) << shard;
  EXPECT_EQ(tiling.rfind("vae_tiling '0': ", 0), 0u) << tiling;
  EXPECT_EQ(shard.find("--"), std::string::npos);
  EXPECT_EQ(tiling.find("--"), std::string::npos);
}

TEST(SettingNames, AFrontEndsNamerNamesEverySettingItsWay) {
  NamerGuard guard(as_option);
  EXPECT_EQ(setting_name("steps"), "option 'steps'");
  const std::string shard = usage_message(bad_shard);
  EXPECT_EQ(shard.rfind("option 'shard' '3/2': expected I/N", 0), 0u) << shard;
}
