#include "topology/bandwidth_queries.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include "topology/cluster_builders.hpp"

namespace moesim::topology {
namespace {

TEST(BisectionBandwidth, TwoToOneOversubscribedFatTreeOf32NodesHalvesAcrossRails) {
  const auto graph =
      build_cluster(cluster_params("hgx-h200", 32, "", FabricKind::InfinibandFatTree, 2.0));
  // 32 nodes fill one leaf per rail (32 downlinks of 50 GB/s each). At 2:1 each leaf has
  // 32 x 50 / 2 = 800 GB/s of uplinks.
  // Split by nodes (16 | 16): both halves hang off the same 8 leaves, so the cut is the NICs of
  // one half: 16 nodes x 8 NICs x 50 GB/s = 6.4 TB/s.
  // Split by rails (0-3 | 4-7): everything crosses the spines, limited by the uplinks of the 4
  // lower-rail leaves: 4 x 800 GB/s = 3.2 TB/s, the narrower.
  const auto bisection = bisection_bandwidth(graph);
  EXPECT_DOUBLE_EQ(bisection.bandwidth, 3.2e12);
  EXPECT_EQ(bisection.split, "rails");
}

TEST(BisectionBandwidth, NonBlockingFatTreeOf32NodesCarriesHalfTheNics) {
  const auto graph = build_cluster(cluster_params("hgx-h200", 32));
  // At 1:1 the rail split has 4 x 1.6 TB/s = 6.4 TB/s of uplinks, equal to the node split's
  // 16 x 8 x 50 GB/s = 6.4 TB/s; ties keep the first (nodes).
  const auto bisection = bisection_bandwidth(graph);
  EXPECT_DOUBLE_EQ(bisection.bandwidth, 6.4e12);
  EXPECT_EQ(bisection.split, "nodes");
}

TEST(BisectionBandwidth, WithoutAFabricIsTheNvlinkOfHalfTheGpus) {
  const auto graph = build_cluster(cluster_params("hgx-h200", 1, "", FabricKind::None));
  // GPUs 0-3 to GPUs 4-7: through the NVSwitch 4 x 450 GB/s = 1.8 TB/s; and over PCIe, GPUs 0-3
  // sit on switches 0-1, whose 2 uplinks to the host bridge add 2 x 64 GB/s.
  const auto bisection = bisection_bandwidth(graph);
  EXPECT_DOUBLE_EQ(bisection.bandwidth, 4 * 450e9 + 2 * 64e9);
  EXPECT_EQ(bisection.split, "gpus");
}

TEST(FabricBottleneck, UniformAllToAllOnFourH200NodesIsTheNicRail) {
  const auto graph = build_cluster(cluster_params("hgx-h200", 4));
  Router router(graph);
  std::vector<int> ranks(32);
  std::iota(ranks.begin(), ranks.end(), 0);
  const Bytes per_pair = 1e6;
  const auto worst = bottleneck(router, TrafficMatrix::uniform_all_to_all(ranks, per_pair));
  // Each GPU sends 1 MB to each of the 31 others: 7 over NVLink (7 MB on 450 GB/s: 15.6 us) and
  // 24 to other nodes, all through its own NIC (24 MB on 50 GB/s: 480 us). A leaf's spine
  // uplinks carry the 21 MB per NIC bound for other rails: 4 x 21 MB over 4 x 50 GB/s: 420 us.
  // The NIC link is the most loaded: 24 MB, busy 24e6 / 50e9 = 480 us.
  const auto source = graph.vertex(graph.link_source(worst.link)).kind;
  const auto target = graph.vertex(graph.link_target(worst.link)).kind;
  EXPECT_TRUE(source == VertexKind::Nic || target == VertexKind::Nic);
  EXPECT_EQ(graph.link(worst.link).kind, LinkKind::Ib);
  EXPECT_DOUBLE_EQ(worst.bytes, 24 * per_pair);
  EXPECT_DOUBLE_EQ(worst.busy, 24 * per_pair / 50e9);
}

TEST(FabricBottleneck, TwoToOneOversubscriptionMovesItToTheSpineUplinks) {
  const auto graph =
      build_cluster(cluster_params("hgx-h200", 4, "", FabricKind::InfinibandFatTree, 2.0));
  Router router(graph);
  std::vector<int> ranks(32);
  std::iota(ranks.begin(), ranks.end(), 0);
  const auto worst = bottleneck(router, TrafficMatrix::uniform_all_to_all(ranks, 1e6));
  // 2 spines (4 downlinks / 2); a leaf's uplinks are 4 x 50 / 2 = 100 GB/s, 50 GB/s per spine.
  // Up from a leaf: 4 NICs x 21 MB cross-rail = 84 MB, half per spine = 42 MB on 50 GB/s: 840 us,
  // above the NIC's 480 us.
  EXPECT_EQ(graph.vertex(graph.link_target(worst.link)).kind == VertexKind::Spine ||
                graph.vertex(graph.link_source(worst.link)).kind == VertexKind::Spine,
            true);
  EXPECT_DOUBLE_EQ(worst.busy, 42e6 / 50e9);
}

TEST(FabricBottleneck, InjectionBandwidthOfAnH200Gpu) {
  const auto graph = build_cluster(cluster_params("hgx-h200", 4));
  Router router(graph);
  const auto injection = injection_bandwidth(router, 0);
  EXPECT_DOUBLE_EQ(injection.scale_up, 450e9);  // its NVLink to the NVSwitch
  EXPECT_DOUBLE_EQ(injection.scale_out, 50e9);  // min(PCIe 64 GB/s, NIC 50 GB/s)
}

}  // namespace
}  // namespace moesim::topology
