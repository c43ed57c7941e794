#include "topology/routes.hpp"

#include <gtest/gtest.h>

#include <map>

#include "topology/cluster_builders.hpp"

namespace moesim::topology {
namespace {

// h200x32: 4 HGX H200 nodes, one leaf per rail, 4 spines; rank = node * 8 + local GPU.
ClusterGraph four_h200_nodes() { return build_cluster(cluster_params("hgx-h200", 4)); }

std::map<VertexKind, double> share_into(const ClusterGraph& graph, const Route& route) {
  std::map<VertexKind, double> shares;
  route.for_each_link([&](LinkId link, double share) {
    shares[graph.vertex(graph.link_target(link)).kind] += share;
  });
  return shares;
}

TEST(RouteQuery, SameNodeGoesThroughNvswitchInTwoHops) {
  const auto graph = four_h200_nodes();
  Router router(graph);
  const Route route = router.route(0, 1);
  // GPU 0 -> NVSwitch -> GPU 1.
  EXPECT_EQ(route.hops(), 2);
  EXPECT_DOUBLE_EQ(route.paths(), 1);
  EXPECT_DOUBLE_EQ(route.bottleneck(), 450e9);  // NVLink 4: 450 GB/s per direction
  // Latency: the 1 us NVSwitch hop split over its two links.
  EXPECT_DOUBLE_EQ(route.latency(), 1e-6);
}

TEST(RouteQuery, SameRailAcrossNodesStaysOnTheLeaf) {
  const auto graph = four_h200_nodes();
  Router router(graph);
  const Route route = router.route(0, 8);  // node 0 GPU 0 -> node 1 GPU 0, both rail 0
  // GPU -> PCIe switch -> NIC -> leaf -> NIC -> PCIe switch -> GPU.
  EXPECT_EQ(route.hops(), 6);
  EXPECT_DOUBLE_EQ(route.paths(), 1);
  EXPECT_DOUBLE_EQ(route.bottleneck(), 50e9);  // ConnectX-7: 400 Gb/s = 50 GB/s < PCIe 64 GB/s
}

TEST(RouteQuery, CrossRailClimbsToTheSpines) {
  const auto graph = four_h200_nodes();
  Router router(graph);
  const Route route = router.route(0, 9);  // node 0 rail 0 -> node 1 rail 1
  // GPU -> PCIe -> NIC -> leaf 0 -> spine -> leaf 1 -> NIC -> PCIe -> GPU: 8 links on each of
  // the 4 equal paths (one per spine).
  EXPECT_EQ(route.hops(), 8);
  EXPECT_DOUBLE_EQ(route.paths(), 4);
}

TEST(RouteQuery, EcmpSplitsEvenlyOverTheSpines) {
  const auto graph = four_h200_nodes();
  Router router(graph);
  const Route route = router.route(0, 9);
  int spine_links = 0;
  route.for_each_link([&](LinkId link, double share) {
    const bool up = graph.vertex(graph.link_target(link)).kind == VertexKind::Spine;
    const bool down = graph.vertex(graph.link_source(link)).kind == VertexKind::Spine;
    if (!up && !down) return;
    ++spine_links;
    EXPECT_DOUBLE_EQ(share, 0.25);  // 4 spines, an even split: 1/4 of the bytes on each
  });
  EXPECT_EQ(spine_links, 8);  // 4 up from leaf 0, 4 down to leaf 1
  // Each hop carries the whole message: the shares into the spines sum to 1.
  EXPECT_DOUBLE_EQ(share_into(graph, route)[VertexKind::Spine], 1.0);
  // A spine uplink is 4 ports x 50 GB/s / 4 spines = 50 GB/s carrying 1/4: it allows 200 GB/s;
  // the NIC, carrying all of it at 50 GB/s, is tighter.
  EXPECT_DOUBLE_EQ(route.bottleneck(), 50e9);
}

TEST(RouteQuery, PxnCrossesNvlinkToThePeerOnTheDestinationRail) {
  const auto graph = four_h200_nodes();
  Router router(graph, RouteOptions{.pxn = true});
  const Route route = router.route(0, 9);
  // GPU 0 -> NVSwitch -> GPU 1 (2), then GPU 1's rail: PCIe -> NIC -> leaf 1 -> NIC -> PCIe -> GPU
  // (6): 8 links, one path, no spine.
  EXPECT_EQ(route.hops(), 8);
  EXPECT_DOUBLE_EQ(route.paths(), 1);
  const auto shares = share_into(graph, route);
  EXPECT_EQ(shares.count(VertexKind::Spine), 0u);
  EXPECT_DOUBLE_EQ(shares.at(VertexKind::NvSwitch), 1.0);
}

TEST(RouteQuery, AcrossPodsGoesThroughTheCore) {
  const auto graph = build_cluster(cluster_params("hgx-h100", 256));  // 2 pods of 128 nodes
  Router router(graph);
  const Route route = router.route(0, 128 * 8);  // node 0 GPU 0 -> node 128 GPU 0 (pod 1)
  // 3 links up to the leaf, leaf -> spine -> core -> spine -> leaf (4), 3 down to the GPU.
  EXPECT_EQ(route.hops(), 10);
  // 32 spines per pod x 1 core per plane: 32 equal paths.
  EXPECT_DOUBLE_EQ(route.paths(), 32);
  EXPECT_DOUBLE_EQ(share_into(graph, route)[VertexKind::Core], 1.0);
}

TEST(RouteQuery, PcieOnlyNodeCrossesTheHostBridgeBetweenSwitches) {
  const auto graph = build_cluster(cluster_params("pcie-h100", 1, "", FabricKind::None));
  Router router(graph);
  // GPUs 0 and 1 share PCIe switch 0: GPU -> switch -> GPU.
  EXPECT_EQ(router.route(0, 1).hops(), 2);
  // GPU 0 (switch 0) -> GPU 2 (switch 1): GPU -> switch -> host bridge -> switch -> GPU.
  EXPECT_EQ(router.route(0, 2).hops(), 4);
  EXPECT_DOUBLE_EQ(router.route(0, 2).bottleneck(), 64e9);  // PCIe Gen5 x16
}

TEST(RouteQuery, SegmentsAreCachedPerClassNotPerMessage) {
  const auto graph = four_h200_nodes();
  Router router(graph);
  router.route(0, 9);
  const auto after_first = router.cached_segments();
  for (int repeat = 0; repeat < 100; ++repeat) router.route(0, 9);
  EXPECT_EQ(router.cached_segments(), after_first);
  // Rank 1 is on rail 1, the leaf of rank 9: the route needs rank 1's uplink (new) and rank 9's
  // downlink (cached by the first query), nothing else: one more segment.
  router.route(1, 9);
  EXPECT_EQ(router.cached_segments(), after_first + 1);
}

}  // namespace
}  // namespace moesim::topology
