#include "topology/cluster_builders.hpp"

#include <gtest/gtest.h>

#include "base/config_error.hpp"
#include "topology/fabric_builders.hpp"

namespace moesim::topology {
namespace {

TEST(TopologyBuilders, OneHgxH200NodeHasItsGpusNicsAndSwitches) {
  const auto graph = build_cluster(cluster_params("hgx-h200", 1, "", FabricKind::None));
  // 8 GPUs, 8 NICs, 4 PCIe switches (2 GPUs + 2 NICs each), 1 host bridge, 1 NVSwitch domain.
  EXPECT_EQ(graph.count(VertexKind::Gpu), 8u);
  EXPECT_EQ(graph.count(VertexKind::Nic), 8u);
  EXPECT_EQ(graph.count(VertexKind::PcieSwitch), 4u);
  EXPECT_EQ(graph.count(VertexKind::HostBridge), 1u);
  EXPECT_EQ(graph.count(VertexKind::NvSwitch), 1u);
  EXPECT_EQ(graph.vertex_count(), 22u);  // 8 + 8 + 4 + 1 + 1
  // Duplex cables: 8 GPU-NVSwitch (NVLink), 8 GPU-PCIe + 8 NIC-PCIe + 4 switch-host (PCIe).
  EXPECT_EQ(graph.count(LinkKind::Nvlink), 16u);  // 8 x 2 directions
  EXPECT_EQ(graph.count(LinkKind::Pcie), 40u);    // (8 + 8 + 4) x 2
  EXPECT_EQ(graph.tiers(), 0);
}

TEST(TopologyBuilders, FourH200NodesOnOneLeafPerRail) {
  const auto graph = build_cluster(cluster_params("hgx-h200", 4));
  // 4 nodes < 32 per leaf: one group, 8 leaves (one per rail); one uplink per spine for each of
  // the 4 downlinks at 1:1, so 4 spines.
  EXPECT_EQ(graph.count(VertexKind::Leaf), 8u);
  EXPECT_EQ(graph.count(VertexKind::Spine), 4u);
  EXPECT_EQ(graph.vertex_count(), 4u * 22 + 8 + 4);
  // IB: 32 NIC-leaf cables + 8 x 4 leaf-spine cables, both directions.
  EXPECT_EQ(graph.count(LinkKind::Ib), (32u + 32u) * 2);
  EXPECT_EQ(graph.tiers(), 2);
}

TEST(TopologyBuilders, Gb200Nvl72IsOneNvlinkDomainOf72Gpus) {
  const auto graph = build_cluster(cluster_params("gb200-nvl72", 18, "", FabricKind::None));
  // 18 trays of 4 GPUs share one NVSwitch domain.
  EXPECT_EQ(graph.count(VertexKind::Gpu), 72u);
  EXPECT_EQ(graph.count(VertexKind::NvSwitch), 1u);
  EXPECT_EQ(graph.domain_count(), 1);
  EXPECT_EQ(graph.count(LinkKind::Nvlink), 144u);  // 72 GPUs x 2 directions
}

TEST(TopologyBuilders, Mi300xGpusAreFullyConnectedByInfinityFabric) {
  const auto graph = build_cluster(cluster_params("mi300x-platform", 1, "", FabricKind::None));
  // 8 GPUs, every pair cabled both ways: 8 x 7 directed links.
  EXPECT_EQ(graph.count(LinkKind::Xgmi), 56u);
  EXPECT_EQ(graph.count(VertexKind::NvSwitch), 0u);
}

TEST(TopologyBuilders, ThreeTiersFrom1024Gpus) {
  const auto params = cluster_params("hgx-h100", 256);
  const auto shape = fat_tree_shape(params);
  // 2,048 GPUs >= 1,024: pods of 128 nodes -> 2 pods of 4 leaf groups (32 nodes each);
  // 32 spines per pod (a full leaf's 32 uplinks at 1:1); cores per plane = ceil(2 pods x 32
  // leaves / 64 ports) = 1.
  EXPECT_TRUE(shape.three_tier);
  EXPECT_EQ(shape.pods, 2);
  EXPECT_EQ(shape.groups_per_pod, 4);
  EXPECT_EQ(shape.spines_per_pod, 32);
  EXPECT_EQ(shape.cores_per_plane, 1);
  const auto graph = build_cluster(params);
  EXPECT_EQ(graph.tiers(), 3);
  EXPECT_EQ(graph.count(VertexKind::Leaf), 2u * 4 * 8);
  EXPECT_EQ(graph.count(VertexKind::Spine), 2u * 32);
  EXPECT_EQ(graph.count(VertexKind::Core), 32u);
}

TEST(TopologyBuilders, RoceDeliversItsEfficiencyOfLineRate) {
  auto params = cluster_params("hgx-h100", 2, "", FabricKind::Roce);
  params.roce_efficiency = 0.8;
  // 400 Gb/s = 50 GB/s line rate x 0.8 = 40 GB/s per port.
  EXPECT_DOUBLE_EQ(fat_tree_shape(params).port_bandwidth, 40e9);
  const auto graph = build_cluster(params);
  EXPECT_EQ(graph.count(LinkKind::Ib), 0u);
  EXPECT_GT(graph.count(LinkKind::Roce), 0u);
}

TEST(TopologyBuilders, SeveralDomainsWithoutAFabricIsAConfigError) {
  try {
    build_cluster(cluster_params("hgx-h200", 2, "", FabricKind::None));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.problems().size(), 1u);
    EXPECT_EQ(error.problems()[0].where, "/cluster/fabric");
  }
}

TEST(TopologyBuilders, UnknownSystemSuggestsTheClosestName) {
  try {
    cluster_params("hgx-h2000", 1);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.problems()[0].message,
              "unknown system \"hgx-h2000\" (did you mean \"hgx-h200\"?)");
  }
}

TEST(TopologyBuilders, CopiedGraphKeepsItsLinks) {
  const auto original = build_cluster(cluster_params("hgx-h200", 4));
  const ClusterGraph copy = original;  // NOLINT(performance-unnecessary-copy-initialization)
  ClusterGraph moved = ClusterGraph(copy);
  // Same counts through the link index after a copy and a move: 64 NVLink (32 GPUs x 2).
  EXPECT_EQ(copy.count(LinkKind::Nvlink), 64u);
  EXPECT_EQ(moved.count(LinkKind::Nvlink), 64u);
  for (LinkId id = 0; id < static_cast<LinkId>(moved.link_count()); ++id)
    ASSERT_EQ(moved.link(id).index, id);
}

}  // namespace
}  // namespace moesim::topology
