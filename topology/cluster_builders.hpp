#pragma once
// Builders for real systems: the nodes (HGX H100/H200/B200 on NVSwitch, GB200 NVL72 trays in one
// NVLink domain, PCIe-only nodes, MI300X on Infinity Fabric) and the scale-out fabric on their NICs
// (fabric_builders.hpp). Figures and their sources: docs/topology.md.
#include <string_view>

#include "topology/cluster_graph.hpp"
#include "topology/nic_presets.hpp"
#include "topology/node_system.hpp"

namespace moesim::topology {

enum class FabricKind { None, InfinibandFatTree, Roce };

std::string_view fabric_kind_name(FabricKind kind);  // "none", "ib-fat-tree", "roce"
std::optional<FabricKind> parse_fabric_kind(std::string_view name);

// What a scenario's cluster section says (sim::ClusterSpec carries the same fields), plus the
// shape of the fat-tree, whose defaults follow NVIDIA's DGX SuperPOD reference architecture.
struct ClusterTopologyParams {
  NodeSystem system;
  int nodes = 1;
  NicSpec nic;
  FabricKind fabric = FabricKind::InfinibandFatTree;
  double oversubscription = 1.0;  // leaf downlink : uplink bandwidth
  double roce_efficiency = 0.9;   // share of line rate RoCE delivers

  int nodes_per_leaf = 32;         // a scalable unit: one leaf per rail serves 32 nodes
  int switch_radix = 64;           // ports per switch (Quantum-2 QM9700: 64 x 400 Gb/s)
  int three_tier_min_gpus = 1024;  // from this size the fabric gets a core tier
  int nodes_per_pod = 128;         // three-tier: nodes under one set of spines
};

// Looks the system (and NIC, empty = the system's default) up by name; ConfigError when unknown.
ClusterTopologyParams cluster_params(std::string_view system, int nodes, std::string_view nic = {},
                                     FabricKind fabric = FabricKind::InfinibandFatTree,
                                     double oversubscription = 1.0);

// The whole cluster. Throws ConfigError (paths under /cluster) for parameters that describe no
// buildable system: no nodes, oversubscription below 1, several domains with no fabric.
ClusterGraph build_cluster(const ClusterTopologyParams& params);

// Figures the builders use beyond the presets (assumptions are named as such in docs/topology.md).
inline constexpr BytesPerSecond kPcieGen5X16 = 64e9;   // 32 GT/s x16, per direction
inline constexpr BytesPerSecond kPcieGen6X16 = 128e9;  // 64 GT/s x16, per direction
inline constexpr Seconds kPcieHopLatency = 250e-9;
inline constexpr Seconds kSwitchHopLatency = 200e-9;

}  // namespace moesim::topology
