#include "sim/network/segment_routes.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <vector>

#include "sim/network/topology_paths.hpp"
#include "topology/cluster_builders.hpp"

namespace moesim::sim {
namespace {

std::vector<char> fabric_links(const NetworkLinks& links) {
  std::vector<char> fabric;
  for (auto kind : links.kind) fabric.push_back(is_scale_out_kind(kind) ? 1 : 0);
  return fabric;
}

// Grouping over segments must be exact: an all-to-all on the grouped routes (each group at its
// tightest member) ends when the same all-to-all on every graph link does. 4 H200 nodes at 2:1
// (so cross-rail routes climb to spines), one EP group of 32, random bytes per pair.
TEST(SegmentRoutes, GroupedRoutesPlayAsTheLinkByLinkRoutes) {
  auto params = topology::cluster_params("hgx-h200", 4);
  params.oversubscription = 2;
  const auto graph = topology::build_cluster(params);
  topology::Router router(graph);
  const NetworkLinks links = network_links(graph);
  std::vector<int> group(32);
  std::iota(group.begin(), group.end(), 0);  // one EP group on GPUs 0..31
  const GroupedRoutes grouped =
      grouped_routes(router, links.capacity.size(), fabric_links(links), {group});
  // The groups of the pair-by-pair grouping (every route's links, as before segments): a GPU's
  // PCIe/NIC chain, a leaf's uplinks are one each either way.
  std::vector<RoutedPath> pair_routes;
  for (int s = 0; s < 32; ++s)
    for (int d = 0; d < 32; ++d)
      if (s != d) pair_routes.push_back(routed_path(router, s, d));
  std::vector<const FlowPath*> pair_paths;
  for (const RoutedPath& route : pair_routes) pair_paths.push_back(&route.path);
  const LinkGroups by_pairs = group_links(links.capacity.size(), pair_paths, fabric_links(links));
  EXPECT_EQ(grouped.groups.group_of, by_pairs.group_of);
  EXPECT_LT(grouped.groups.group_count, graph.link_count());

  std::mt19937_64 random(11);
  std::uniform_real_distribution<double> size(1e6, 1e8);
  ByteMatrix bytes(32, std::vector<Bytes>(32, 0.0));
  for (int s = 0; s < 32; ++s)
    for (int d = 0; d < 32; ++d)
      if (s != d) bytes[s][d] = size(random);
  const AllToAllResult exact = simulate_all_to_all(bytes, router_paths(router), links);
  const NetworkLinks group_links_view{group_capacity(grouped.groups, links.capacity), {}};
  const AllToAllResult over_groups = simulate_all_to_all(
      bytes, [&](int s, int d) { return grouped.paths[s][d]; }, group_links_view);
  ASSERT_EQ(exact.send_done.size(), over_groups.send_done.size());
  for (std::size_t gpu = 0; gpu < 32; ++gpu) {
    // Equal to the nanosecond but for floating-point rounding in the solver.
    EXPECT_NEAR(exact.send_done[gpu].ns(), over_groups.send_done[gpu].ns(), 2) << gpu;
    EXPECT_NEAR(exact.receive_done[gpu].ns(), over_groups.receive_done[gpu].ns(), 2) << gpu;
  }
  // Latencies are the routes' own.
  EXPECT_EQ(grouped.paths[0][9].latency, routed_path(router, 0, 9).latency);
  EXPECT_TRUE(grouped.paths[5][5].path.links.empty());
}

}  // namespace
}  // namespace moesim::sim
