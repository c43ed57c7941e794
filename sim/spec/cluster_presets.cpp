#include "sim/spec/cluster_presets.hpp"

namespace moesim::sim {

std::span<const ClusterPreset> cluster_presets() {
  static const ClusterPreset kClusters[] = {
      {"h100x8", "hgx-h100", 1, FabricKind::None, 1.0, "one HGX H100 node"},
      {"h100x64", "hgx-h100", 8, FabricKind::InfinibandFatTree, 1.0,
       "8 HGX H100 nodes, rail-optimised IB fat-tree"},
      {"h800x8", "hgx-h800", 1, FabricKind::None, 1.0, "one HGX H800 node"},
      {"h800x64", "hgx-h800", 8, FabricKind::InfinibandFatTree, 1.0,
       "8 HGX H800 nodes, IB fat-tree (DeepSeek's serving nodes)"},
      {"h20x8", "hgx-h20", 1, FabricKind::None, 1.0, "one HGX H20 node"},
      {"h20x16", "hgx-h20", 2, FabricKind::InfinibandFatTree, 1.0,
       "2 HGX H20 nodes, IB fat-tree (an EP 16 decode instance)"},
      {"h200x8", "hgx-h200", 1, FabricKind::None, 1.0, "one HGX H200 node"},
      {"h200x32", "hgx-h200", 4, FabricKind::InfinibandFatTree, 1.0,
       "4 HGX H200 nodes, IB fat-tree"},
      {"h200x256", "hgx-h200", 32, FabricKind::InfinibandFatTree, 1.0,
       "32 HGX H200 nodes, IB fat-tree"},
      {"h200x2048", "hgx-h200", 256, FabricKind::InfinibandFatTree, 1.0,
       "256 HGX H200 nodes, IB fat-tree"},
      {"b200x64", "hgx-b200", 8, FabricKind::InfinibandFatTree, 1.0,
       "8 HGX B200 nodes, IB fat-tree"},
      {"gb200x72", "gb200-nvl72", 18, FabricKind::None, 1.0,
       "one GB200 NVL72 rack (18 trays of 4 GPUs)"},
      {"mi300x8", "mi300x-platform", 1, FabricKind::None, 1.0, "one 8-GPU MI300X platform"},
      {"pcie-h100x8", "pcie-h100", 1, FabricKind::None, 1.0, "8 PCIe GPUs in one host, no NVLink"},
  };
  return kClusters;
}

const ClusterPreset* find_cluster_preset(std::string_view name) {
  for (const auto& cluster : cluster_presets())
    if (cluster.name == name) return &cluster;
  return nullptr;
}

}  // namespace moesim::sim
