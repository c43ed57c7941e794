#include "sim/network/topology_paths.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "topology/cluster_builders.hpp"

namespace moesim::sim {
namespace {

using topology::build_cluster;
using topology::cluster_params;
using topology::FabricKind;

TEST(TopologyPaths, LinksCarryTheGraphsRatesAndKinds) {
  const auto graph = build_cluster(cluster_params("hgx-h200", 2));
  const NetworkLinks links = network_links(graph);
  ASSERT_EQ(links.capacity.size(), graph.link_count());
  for (std::size_t id = 0; id < graph.link_count(); ++id) {
    EXPECT_EQ(links.capacity[id], graph.link(static_cast<int>(id)).bandwidth);
    EXPECT_EQ(links.kind[id], graph.link(static_cast<int>(id)).kind);
  }
}

TEST(TopologyPaths, SharesOfEveryHopSumToOne) {
  const auto graph = build_cluster(cluster_params("hgx-h200", 2));
  topology::Router router(graph);
  // GPU 0 -> GPU 9 crosses nodes and rails. Total share over all links = the number of hops,
  // because each hop's shares over its equal-cost links sum to 1.
  const topology::Route route = router.route(0, 9);
  const RoutedPath path = routed_path(router, 0, 9);
  double total = 0;
  for (double share : path.path.shares) total += share;
  EXPECT_NEAR(total, route.hops(), 1e-12);
  EXPECT_EQ(path.latency, SimTime::from_seconds(route.latency()));
}

TEST(TopologyPaths, OneNvSwitchNodeAllToAllTakesBytesOverNvlinkBandwidthPlusLatency) {
  const auto graph = build_cluster(cluster_params("hgx-h200", 1, "", FabricKind::None));
  topology::Router router(graph);
  const int gpus = static_cast<int>(graph.gpus().size());
  ASSERT_EQ(gpus, 8);
  // 0.45 GB from each GPU to each of the 7 others. A GPU's NVLink ports (450 GB/s per direction
  // on H200, over all the NVSwitch chips) carry 7 x 0.45 = 3.15 GB out and in: 7 ms, after one
  // route latency (all pairs alike through the switch).
  ByteMatrix bytes(8, std::vector<Bytes>(8, 0.45e9));
  const auto result = simulate_all_to_all(bytes, router_paths(router), network_links(graph));
  const SimTime latency = routed_path(router, 0, 1).latency;
  EXPECT_EQ(result.time, SimTime::from_seconds(7e-3) + latency);
}

TEST(TopologyPaths, CrossNodeFlowRunsAtTheRouteBottleneckScaledByEfficiency) {
  const auto graph = build_cluster(cluster_params("hgx-h200", 2));
  topology::Router router(graph);
  // GPU 0 -> GPU 8: same rail, node 0 to node 1. Alone, the flow runs at the route's bottleneck
  // (the 400 Gb/s NIC: 50 GB/s); with IB at 80% efficiency, 40 GB/s: 1 GB in 25 ms plus latency.
  const topology::Route route = router.route(0, 8);
  ASSERT_DOUBLE_EQ(route.bottleneck(), 50e9);
  ByteMatrix bytes(16, std::vector<Bytes>(16, 0.0));
  bytes[0][8] = 1e9;
  AllToAllOptions options;
  options.efficiency[topology::LinkKind::Ib] = 0.8;
  const auto result =
      simulate_all_to_all(bytes, router_paths(router), network_links(graph), options);
  EXPECT_EQ(result.time, SimTime::from_seconds(25e-3) + SimTime::from_seconds(route.latency()));
}

}  // namespace
}  // namespace moesim::sim
