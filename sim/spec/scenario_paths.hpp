#pragma once
// Files a scenario names (cluster.topology, model.hf_config, placement.file, a profile file)
// resolve relative to
// the scenario file's directory, so a scenario and its topology travel together whatever the
// working directory. A built-in scenario's relative paths name files built into moesim from
// scenarios/ (scenarios/topologies/*.json), written "builtin:topologies/NAME.json"; other
// relative paths of a built-in scenario stay relative to the working directory.
#include <string>
#include <string_view>

#include "topology/cluster_graph.hpp"

namespace moesim::sim {

inline constexpr std::string_view kBuiltinFilePrefix = "builtin:";

// `path` as the scenario from `source` means it: unchanged when absolute or empty, or when the
// source has no directory (a scenario given as text); under the directory of `source` otherwise;
// for a built-in scenario, "builtin:PATH" where built-in files of that kind exist
// (`builtin_files`: topologies), else unchanged.
std::string resolve_scenario_path(const std::string& source, const std::string& path,
                                  bool builtin_files = false);

// A scenario's profile as resolve_scenario_path resolves its files, except "auto", "roofline" and
// the built-in profiles' names, which name no file.
std::string resolve_profile_path(const std::string& source, const std::string& profile);

// The topology a scenario's cluster.topology names: a built-in one ("builtin:topologies/...")
// or a file. Throws ConfigError naming the path for a missing or malformed one.
topology::ClusterGraph load_scenario_topology(const std::string& path);

}  // namespace moesim::sim
