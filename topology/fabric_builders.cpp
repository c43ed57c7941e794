#include "topology/fabric_builders.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace moesim::topology {
namespace {

int ceil_div(int a, int b) { return (a + b - 1) / b; }

}  // namespace

FatTreeShape fat_tree_shape(const ClusterTopologyParams& params) {
  FatTreeShape shape;
  const int gpus = params.nodes * params.system.gpus_per_node;
  shape.three_tier = gpus >= params.three_tier_min_gpus;
  shape.rails = params.system.nics_per_node;
  shape.nodes_per_pod =
      shape.three_tier ? std::min(params.nodes_per_pod, params.nodes) : params.nodes;
  shape.pods = ceil_div(params.nodes, shape.nodes_per_pod);
  shape.groups_per_pod = ceil_div(shape.nodes_per_pod, params.nodes_per_leaf);
  // One uplink port per spine: a full leaf of d downlinks at d:u oversubscription has u = d / o
  // uplinks, so that many spines (at least one, so cross-rail traffic has a way up).
  const int downlinks = std::min(shape.nodes_per_pod, params.nodes_per_leaf);
  shape.spines_per_pod =
      std::max(1, static_cast<int>(std::ceil(downlinks / params.oversubscription - 1e-9)));
  const int leaves_per_pod = shape.groups_per_pod * shape.rails;
  shape.cores_per_plane =
      shape.three_tier ? std::max(1, ceil_div(shape.pods * leaves_per_pod, params.switch_radix))
                       : 0;
  const double efficiency = params.fabric == FabricKind::Roce ? params.roce_efficiency : 1.0;
  shape.port_bandwidth = params.nic.bandwidth * efficiency;
  return shape;
}

void build_fat_tree(ClusterGraph& graph, const ClusterTopologyParams& params,
                    std::span<const std::vector<VertexId>> nics_by_node) {
  const FatTreeShape shape = fat_tree_shape(params);
  const LinkKind kind = params.fabric == FabricKind::Roce ? LinkKind::Roce : LinkKind::Ib;
  const Seconds nic_latency = params.nic.latency / 2;  // half at the sender, half at the receiver
  const int nodes = static_cast<int>(nics_by_node.size());

  std::vector<VertexId> spines;  // pod-major: spines[pod * S + j]
  for (int pod = 0; pod < shape.pods; ++pod)
    for (int j = 0; j < shape.spines_per_pod; ++j)
      spines.push_back(graph.add_vertex({VertexKind::Spine, fmt::format("p{}.spine{}", pod, j),
                                         kNoIndex, kNoIndex, kNoIndex, pod}));

  std::vector<BytesPerSecond> spine_downlink(spines.size(), 0.0);
  for (int pod = 0; pod < shape.pods; ++pod) {
    for (int group = 0; group < shape.groups_per_pod; ++group) {
      const int first = pod * shape.nodes_per_pod + group * params.nodes_per_leaf;
      const int last =
          std::min({first + params.nodes_per_leaf, (pod + 1) * shape.nodes_per_pod, nodes});
      if (first >= last) continue;
      for (int rail = 0; rail < shape.rails; ++rail) {
        const VertexId leaf =
            graph.add_vertex({VertexKind::Leaf, fmt::format("p{}.g{}.leaf{}", pod, group, rail),
                              kNoIndex, kNoIndex, rail, pod});
        for (int node = first; node < last; ++node)
          graph.add_duplex(
              nics_by_node[static_cast<std::size_t>(node)][static_cast<std::size_t>(rail)], leaf,
              shape.port_bandwidth, nic_latency, kind);
        // The leaf's uplink capacity is its downlink capacity over the oversubscription ratio,
        // spread evenly over one uplink to each spine of the pod.
        const BytesPerSecond uplink =
            (last - first) * shape.port_bandwidth / params.oversubscription / shape.spines_per_pod;
        for (int j = 0; j < shape.spines_per_pod; ++j) {
          const auto spine = static_cast<std::size_t>(pod * shape.spines_per_pod + j);
          graph.add_duplex(leaf, spines[spine], uplink, kSwitchHopLatency, kind);
          spine_downlink[spine] += uplink;
        }
      }
    }
  }
  if (!shape.three_tier) return;

  // Core plane j serves spine j of every pod; spines are not oversubscribed (1:1 up and down).
  for (int j = 0; j < shape.spines_per_pod; ++j) {
    for (int m = 0; m < shape.cores_per_plane; ++m) {
      const VertexId core = graph.add_vertex({VertexKind::Core, fmt::format("core.s{}.m{}", j, m),
                                              kNoIndex, kNoIndex, kNoIndex, kNoIndex});
      for (int pod = 0; pod < shape.pods; ++pod) {
        const auto spine = static_cast<std::size_t>(pod * shape.spines_per_pod + j);
        graph.add_duplex(spines[spine], core, spine_downlink[spine] / shape.cores_per_plane,
                         kSwitchHopLatency, kind);
      }
    }
  }
}

}  // namespace moesim::topology
