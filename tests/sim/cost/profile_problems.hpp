#pragma once
// Every "where: message" of the ConfigError that reading `document` as a profile named "p.json"
// throws; empty when it reads. Shared by the profile reader's tests.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/config_error.hpp"
#include "sim/cost/measured_profile.hpp"

namespace moesim::sim {

inline std::vector<std::string> profile_problems_of(const nlohmann::json& document) {
  try {
    MeasuredProfile profile(document, "p.json");
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.source(), "p.json");
    std::vector<std::string> lines;
    for (const auto& problem : error.problems())
      lines.push_back(problem.where + ": " + problem.message);
    return lines;
  }
  return {};
}

}  // namespace moesim::sim
