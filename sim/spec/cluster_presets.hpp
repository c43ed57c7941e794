#pragma once
// Named clusters: a node system, a node count, a fabric. `moesim list clusters` prints them.
#include <span>
#include <string>
#include <string_view>

#include "sim/spec/choices.hpp"

namespace moesim::sim {

struct ClusterPreset {
  std::string name;
  std::string system;  // topology::NodeSystem name
  int nodes;
  FabricKind fabric;
  double oversubscription;
  std::string description;
};

std::span<const ClusterPreset> cluster_presets();
const ClusterPreset* find_cluster_preset(std::string_view name);

}  // namespace moesim::sim
