#include "sim/spec/builtin_scenarios.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "base/strict_json.hpp"

namespace moesim::sim {
namespace {

namespace fs = std::filesystem;

const fs::path kScenarioDir = fs::path(MOESIM_SOURCE_DIR) / "scenarios";

std::string scenario_file_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(BuiltinScenarios, AreTheTopLevelScenarioFiles) {
  // Only scenarios/*.json: the subfolders (profiles/, plans/, policies/) are not scenarios.
  std::set<std::string> stems;
  for (const auto& entry : fs::directory_iterator(kScenarioDir))
    if (entry.is_regular_file() && entry.path().extension() == ".json")
      stems.insert(entry.path().stem().string());
  std::set<std::string> names;
  for (const auto& scenario : builtin_scenarios()) names.emplace(scenario.name);
  EXPECT_EQ(names, stems);
  EXPECT_EQ(builtin_scenarios().size(), stems.size());
}

TEST(BuiltinScenarios, TextIsTheFileByteForByte) {
  for (const auto& scenario : builtin_scenarios()) {
    SCOPED_TRACE(std::string(scenario.name));
    EXPECT_EQ(std::string(scenario.json),
              scenario_file_text(kScenarioDir / (std::string(scenario.name) + ".json")));
  }
}

TEST(BuiltinScenarios, EveryTextIsStrictJsonWithASchemaVersion) {
  for (const auto& scenario : builtin_scenarios()) {
    SCOPED_TRACE(std::string(scenario.name));
    const auto json = parse_strict_json(scenario.json, std::string(scenario.name));
    EXPECT_EQ(json["schema_version"], 1);
  }
}

TEST(BuiltinScenarios, FindReturnsTheEntryOfThatName) {
  // `moesim run quickstart` depends on this one being compiled in.
  const BuiltinScenario* quickstart = find_builtin_scenario("quickstart");
  ASSERT_NE(quickstart, nullptr);
  EXPECT_EQ(quickstart->name, "quickstart");
  for (const auto& scenario : builtin_scenarios())
    EXPECT_EQ(find_builtin_scenario(scenario.name), &scenario) << scenario.name;
}

TEST(BuiltinScenarios, FindReturnsNullForAnUnknownName) {
  EXPECT_EQ(find_builtin_scenario("no-such-scenario"), nullptr);
  EXPECT_EQ(find_builtin_scenario(""), nullptr);
  // Names are stems: the file name with its extension is not one.
  EXPECT_EQ(find_builtin_scenario("quickstart.json"), nullptr);
}

}  // namespace
}  // namespace moesim::sim
