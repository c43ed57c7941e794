#include "sim/spec/builtin_profiles.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "base/strict_json.hpp"
#include "sim/spec/device_presets.hpp"

namespace moesim::sim {
namespace {

namespace fs = std::filesystem;

const fs::path kProfileDir = fs::path(MOESIM_SOURCE_DIR) / "scenarios" / "profiles";

std::string profile_file_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(BuiltinProfiles, NamesAreTheStemsOfTheShippedProfileFiles) {
  std::set<std::string> stems;
  for (const auto& entry : fs::directory_iterator(kProfileDir))
    if (entry.path().extension() == ".json") stems.insert(entry.path().stem().string());
  const auto names = builtin_profile_names();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), stems);
  // One entry per file: no name embedded twice.
  EXPECT_EQ(names.size(), stems.size());
}

TEST(BuiltinProfiles, TextIsTheFileByteForByte) {
  for (const auto& name : builtin_profile_names()) {
    SCOPED_TRACE(name);
    const auto text = builtin_profile_text(name);
    ASSERT_TRUE(text.has_value());
    EXPECT_EQ(std::string(*text), profile_file_text(kProfileDir / (name + ".json")));
  }
}

TEST(BuiltinProfiles, EveryTextIsStrictJsonOfKindProfile) {
  for (const auto& name : builtin_profile_names()) {
    SCOPED_TRACE(name);
    const auto json = parse_strict_json(*builtin_profile_text(name), name);
    EXPECT_EQ(json["kind"], "moesim-profile");
  }
}

TEST(BuiltinProfiles, UnknownNameHasNoText) {
  EXPECT_FALSE(builtin_profile_text("h300").has_value());
  EXPECT_FALSE(builtin_profile_text("").has_value());
  // The lookup is by exact stem, not by file name.
  EXPECT_FALSE(builtin_profile_text("h100.json").has_value());
}

TEST(BuiltinProfiles, DevicesMapToTheProfileMeasuredOnThem) {
  EXPECT_EQ(builtin_profile_for_device("h100-sxm"), "h100");
  EXPECT_EQ(builtin_profile_for_device("h200"), "h200");
  // No profile was measured on a B200 or an MI300X, and an unknown device has none.
  EXPECT_EQ(builtin_profile_for_device("b200"), std::nullopt);
  EXPECT_EQ(builtin_profile_for_device("mi300x"), std::nullopt);
  EXPECT_EQ(builtin_profile_for_device("nonexistent"), std::nullopt);
}

TEST(BuiltinProfiles, EveryDeviceMappingPointsAtAShippedProfile) {
  for (const auto& device : device_presets()) {
    SCOPED_TRACE(device.name);
    if (const auto profile = builtin_profile_for_device(device.name)) {
      EXPECT_TRUE(builtin_profile_text(*profile).has_value()) << *profile;
    }
  }
}

}  // namespace
}  // namespace moesim::sim
