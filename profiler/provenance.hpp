#pragma once
// Where a profile was measured: GPU, clocks, driver and library versions, date, command line.
#include <nlohmann/json.hpp>
#include <string>

namespace moesim::profiler {

nlohmann::json collect_provenance(const std::string& command_line);

}  // namespace moesim::profiler
