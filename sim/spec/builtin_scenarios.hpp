#pragma once
// Scenarios compiled into the binary from scenarios/*.json, so `moesim run quickstart` works from
// any directory (and the shipped program never reads the source tree).
#include <span>
#include <string_view>

namespace moesim::sim {

struct BuiltinScenario {
  std::string_view name;  // the file's stem
  std::string_view json;
};

std::span<const BuiltinScenario> builtin_scenarios();
const BuiltinScenario* find_builtin_scenario(std::string_view name);

}  // namespace moesim::sim
