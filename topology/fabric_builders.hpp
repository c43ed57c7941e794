#pragma once
// The scale-out fabric on the NICs of built nodes: an InfiniBand (or RoCE) rail-optimised fat-tree.
// Two tiers: per group of `nodes_per_leaf` nodes, one leaf per rail; every leaf has one uplink to
// each spine. Three tiers (from `three_tier_min_gpus`): pods of `nodes_per_pod` nodes, each with
// its own spines; spine j of every pod connects to the core switches of plane j.
#include <span>
#include <vector>

#include "topology/cluster_builders.hpp"
#include "topology/cluster_graph.hpp"

namespace moesim::topology {

// `nics_by_node[n][r]` is node n's NIC on rail r.
void build_fat_tree(ClusterGraph& graph, const ClusterTopologyParams& params,
                    std::span<const std::vector<VertexId>> nics_by_node);

// The shape build_fat_tree chooses, exposed so tests and docs can derive their numbers from it.
struct FatTreeShape {
  bool three_tier = false;
  int rails = 0;
  int pods = 0;
  int nodes_per_pod = 0;
  int groups_per_pod = 0;
  int spines_per_pod = 0;             // each leaf has one uplink to every spine of its pod
  int cores_per_plane = 0;            // three-tier: cores behind spine j of each pod
  BytesPerSecond port_bandwidth = 0;  // one NIC or switch port, after RoCE efficiency
};
FatTreeShape fat_tree_shape(const ClusterTopologyParams& params);

}  // namespace moesim::topology
