#pragma once
// A report's provenance (DESIGN.md's report contract): the moesim version, the path and CRC-32C of
// every input, and what the run scaled or tiled; and how two reports' provenance differ.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/run/inputs.hpp"
#include "sim/run/run_result.hpp"

namespace moesim::sim {

std::string moesim_version();

// `scenario_arg` as the user named it (a built-in name or a file); `trace_path` empty without one.
// Reads the inputs once more to hash them (the trace streams in blocks).
Provenance describe_inputs(const RunInputs& inputs, const std::string& scenario_arg,
                           const std::string& trace_path);

nlohmann::json provenance_to_json(const Provenance& provenance);
// "trace: <path> (crc32c ...)" and the adjustments, one line each, for the summary.
std::string provenance_text(const Provenance& provenance);

// Each way the two reports' provenance differ, except in their traces (the input under test):
// moesim version, scenario and profile (path or bytes). A report without provenance is one line.
std::vector<std::string> provenance_differences(const nlohmann::json& baseline,
                                                const nlohmann::json& candidate);

}  // namespace moesim::sim
