#include "sim/network/hierarchical_all_to_all.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <vector>

#include "sim/network/segment_routes.hpp"
#include "sim/network/topology_paths.hpp"
#include "topology/cluster_builders.hpp"

namespace moesim::sim {
namespace {

// 2 nodes of 2 GPUs. Inside a node GPU g sends on its NVLink port 2 g (200 GB/s) and receives on
// 2 g + 1; across nodes it sends on its NIC 8 + 2 g (50 GB/s) and receives on 8 + 2 g + 1.
struct TwoNodeNet {
  std::vector<std::vector<RoutedPath>> paths;
  NetworkLinks links;
  TwoNodeNet() : paths(4, std::vector<RoutedPath>(4)) {
    links.capacity = {200e9, 200e9, 200e9, 200e9, 200e9, 200e9, 200e9, 200e9,
                      50e9,  50e9,  50e9,  50e9,  50e9,  50e9,  50e9,  50e9};
    for (int s = 0; s < 4; ++s)
      for (int d = 0; d < 4; ++d)
        if (s != d)
          paths[s][d] = s / 2 == d / 2
                            ? RoutedPath{FlowPath({2 * s, 2 * d + 1}), SimTime::zero()}
                            : RoutedPath{FlowPath({8 + 2 * s, 8 + 2 * d + 1}), SimTime::zero()};
  }
  PathLookup lookup() const {
    return [this](int s, int d) -> const RoutedPath& { return paths[s][d]; };
  }
};

AllToAllOptions two_per_node() {
  AllToAllOptions options;
  options.hierarchical = true;
  options.gpus_per_node = 2;
  return options;
}

TEST(HierarchicalAllToAll, UniformDispatchByHand) {
  // b = 1 GB between every pair. GPU 0: a local flow to 1 (b), a fabric flow to its relay GPU 2
  // (2 b: its bytes for 2 and 3), and relay 0 forwards GPU 2's b for GPU 1. So GPU 0's NVLink
  // port carries 2 flows of b at 100 GB/s each (10 ms) and its NIC one of 2 b at 50 GB/s
  // (40 ms): every GPU is done at 40 ms. Classes: node 0 -> node 1's fabric flows (0 -> 2 and
  // 1 -> 3, same bytes and rate alone) are one, node 1 -> node 0 another; each GPU receives one
  // local and one forwarded flow (a class each): 2 + 4 + 4 = 10 classes for 12 flows.
  const TwoNodeNet net;
  ByteMatrix bytes(4, std::vector<Bytes>(4, 1e9));
  for (int g = 0; g < 4; ++g) bytes[g][g] = 0;
  HierarchicalAllToAll collectives;
  const AllToAllResult result = collectives.play(bytes, net.lookup(), net.links, two_per_node());
  EXPECT_EQ(result.flows, 10u);
  EXPECT_EQ(result.time, SimTime::from_ns(40'000'000));
  for (int g = 0; g < 4; ++g) {
    EXPECT_EQ(result.send_done[g], SimTime::from_ns(40'000'000)) << g;
    EXPECT_EQ(result.receive_done[g], SimTime::from_ns(40'000'000)) << g;
  }
  // Scale-up bytes: these links have no kinds, so every flow counts (all_to_all.hpp): 4 local
  // and 4 forwarded flows of b, 4 fabric flows of 2 b = 16 b.
  EXPECT_DOUBLE_EQ(result.scale_up_bytes, 16e9);
  // GPU 0's NIC out carried its 2 b; its NVLink out b local + b forwarded.
  EXPECT_DOUBLE_EQ(result.link_bytes[8], 2e9);
  EXPECT_DOUBLE_EQ(result.link_bytes[0], 2e9);
  const AllToAllResult pairs = simulate_all_to_all(
      bytes, [&](int s, int d) { return net.paths[s][d]; }, net.links, two_per_node());
  EXPECT_EQ(pairs.flows, 12u);
  EXPECT_EQ(pairs.send_done, result.send_done);
  EXPECT_EQ(pairs.receive_done, result.receive_done);
  EXPECT_DOUBLE_EQ(pairs.scale_up_bytes, result.scale_up_bytes);
  ASSERT_EQ(pairs.link_bytes.size(), result.link_bytes.size());
  for (std::size_t link = 0; link < pairs.link_bytes.size(); ++link)
    EXPECT_NEAR(pairs.link_bytes[link], result.link_bytes[link], 1e-6 * pairs.link_bytes[link])
        << link;
}

TEST(HierarchicalAllToAll, SlowerNicKeepsItsOwnClass) {
  // GPU 1's NIC out at 25 GB/s: its fabric flow to relay 3 (2 b) takes 80 ms alone, GPU 0's
  // 40 ms; tied in one class both would end at 80 ms. Their rates alone differ, so they are two
  // classes: GPU 0 is done sending at 40 ms, GPU 1 at 80 ms, as pair by pair.
  TwoNodeNet net;
  net.links.capacity[8 + 2 * 1] = 25e9;
  ByteMatrix bytes(4, std::vector<Bytes>(4, 1e9));
  for (int g = 0; g < 4; ++g) bytes[g][g] = 0;
  HierarchicalAllToAll collectives;
  const AllToAllResult result = collectives.play(bytes, net.lookup(), net.links, two_per_node());
  EXPECT_EQ(result.flows, 11u);
  EXPECT_EQ(result.send_done[0], SimTime::from_ns(40'000'000));
  EXPECT_EQ(result.send_done[1], SimTime::from_ns(80'000'000));
  EXPECT_EQ(result.time, SimTime::from_ns(80'000'000));
}

// DeepSeek-like traffic on 4 H200 nodes at 2:1 oversubscription (EP 32, routes over link groups
// as the network model plays them): every GPU of a node sends the same skewed row, so classes
// are exact but for batching and tied rates; each GPU must end within 2% of the pair-by-pair
// play, and the collective within 1%, with far fewer flows.
TEST(HierarchicalAllToAll, DomainRowsPlayAsPairByPair) {
  auto params = topology::cluster_params("hgx-h200", 4);
  params.oversubscription = 2;
  const auto graph = topology::build_cluster(params);
  topology::Router router(graph);
  const NetworkLinks links = network_links(graph);
  std::vector<char> fabric;
  for (auto kind : links.kind) fabric.push_back(is_scale_out_kind(kind) ? 1 : 0);
  std::vector<int> group(32);
  std::iota(group.begin(), group.end(), 0);
  const GroupedRoutes routes = grouped_routes(router, links.capacity.size(), fabric, {group});
  const NetworkLinks grouped{group_capacity(routes.groups, effective_capacity(links, {})), {}};
  std::mt19937_64 random(5);
  std::uniform_real_distribution<double> size(1e6, 4e7);
  std::vector<Bytes> column(32);
  for (Bytes& entry : column) entry = size(random);
  ByteMatrix bytes(32, std::vector<Bytes>(32, 0.0));
  for (int s = 0; s < 32; ++s)
    for (int d = 0; d < 32; ++d)
      if (s != d) bytes[s][d] = column[d] * (1 + s / 8);  // same row across a node
  AllToAllOptions options;
  options.hierarchical = true;
  options.gpus_per_node = 8;
  options.completion_tolerance = 0.01;
  options.fixed_cost = SimTime::from_ns(20'000);
  HierarchicalAllToAll collectives;
  const PathLookup lookup = [&](int s, int d) -> const RoutedPath& { return routes.paths[s][d]; };
  const AllToAllResult classed = collectives.play(bytes, lookup, grouped, options);
  const AllToAllResult pairs = simulate_all_to_all(
      bytes, [&](int s, int d) { return routes.paths[s][d]; }, grouped, options);
  EXPECT_LT(classed.flows * 3, pairs.flows);
  for (std::size_t g = 0; g < 32; ++g) {
    EXPECT_NEAR(classed.send_done[g].seconds(), pairs.send_done[g].seconds(),
                0.02 * pairs.send_done[g].seconds())
        << g;
    EXPECT_NEAR(classed.receive_done[g].seconds(), pairs.receive_done[g].seconds(),
                0.02 * pairs.receive_done[g].seconds())
        << g;
  }
  EXPECT_NEAR(classed.time.seconds(), pairs.time.seconds(), 0.01 * pairs.time.seconds());
  EXPECT_DOUBLE_EQ(classed.scale_up_bytes, pairs.scale_up_bytes);

  // The next layer: same shape, other bytes. Its plan is reused, with the fresh results.
  for (auto& row : bytes)
    for (Bytes& entry : row) entry *= 1.7;
  const AllToAllResult again = collectives.play(bytes, lookup, grouped, options);
  const AllToAllResult fresh = HierarchicalAllToAll().play(bytes, lookup, grouped, options);
  EXPECT_EQ(collectives.plans_made(), 1u);
  EXPECT_EQ(again.send_done, fresh.send_done);
  EXPECT_EQ(again.receive_done, fresh.receive_done);
  EXPECT_EQ(again.link_bytes, fresh.link_bytes);
}

TEST(HierarchicalAllToAll, RefusesDirectDispatchAndBadMatrices) {
  const TwoNodeNet net;
  HierarchicalAllToAll collectives;
  ByteMatrix bytes(4, std::vector<Bytes>(4, 1.0));
  EXPECT_THROW(collectives.play(bytes, net.lookup(), net.links, {}), std::invalid_argument);
  bytes[1][2] = -1;
  EXPECT_THROW(collectives.play(bytes, net.lookup(), net.links, two_per_node()),
               std::invalid_argument);
}

}  // namespace
}  // namespace moesim::sim
