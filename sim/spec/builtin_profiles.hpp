#pragma once
// Measured profiles compiled into the binary from scenarios/profiles/*.json: their names and text.
// The spec stage checks a scenario's profile name against them; the cost stage parses them.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moesim::sim {

std::vector<std::string> builtin_profile_names();
// The JSON text of the built-in profile of that name; nullopt when there is none.
std::optional<std::string_view> builtin_profile_text(std::string_view name);
// Device preset -> the built-in profile measured on that part.
std::optional<std::string> builtin_profile_for_device(const std::string& device);

}  // namespace moesim::sim
