#include "sim/network/all_to_all.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <stdexcept>
#include <vector>

namespace moesim::sim {
namespace {

using topology::LinkKind;

SimTime ms(double value) { return SimTime::from_seconds(value * 1e-3); }

// 2 nodes x 2 GPUs (GPUs 0, 1 on node 0; 2, 3 on node 1). Each GPU has an NVLink port to its
// node's switch (up: link g, down: 4 + g, 100 GB/s) and a NIC on a non-blocking fabric
// (up: 8 + g, down: 12 + g, 50 GB/s). Inside a node a message crosses NVLink up then down;
// between nodes, NIC up then down.
struct TwoByTwo {
  NetworkLinks links;
  SimTime nvlink_latency, fabric_latency;

  explicit TwoByTwo(SimTime nvlink = SimTime::zero(), SimTime fabric = SimTime::zero())
      : nvlink_latency(nvlink), fabric_latency(fabric) {
    for (int link = 0; link < 16; ++link) {
      links.capacity.push_back(link < 8 ? 100e9 : 50e9);
      links.kind.push_back(link < 8 ? LinkKind::Nvlink : LinkKind::Ib);
    }
  }
  PathFunction paths() const {
    return [this](int source, int destination) {
      if (source / 2 == destination / 2)
        return RoutedPath{FlowPath{{source, 4 + destination}}, nvlink_latency};
      return RoutedPath{FlowPath{{8 + source, 12 + destination}}, fabric_latency};
    };
  }
};

ByteMatrix uniform(int gpus, Bytes size) {
  ByteMatrix matrix(static_cast<std::size_t>(gpus),
                    std::vector<Bytes>(static_cast<std::size_t>(gpus), size));
  return matrix;
}

TEST(AllToAll, UniformExchangeIsGatedByTheSharedNic) {
  const TwoByTwo cluster(SimTime::zero(), SimTime::from_ns(2000));
  // 1 GB from every GPU to every GPU (the diagonal stays local).
  const auto result = simulate_all_to_all(uniform(4, 1e9), cluster.paths(), cluster.links);
  // Each NIC carries 2 remote flows each way: 50 / 2 = 25 GB/s, 1 GB in 40 ms, after 2 µs of
  // latency; the NVLink flow (100 GB/s alone) is done at 10 ms. Every GPU: 40.002 ms.
  for (int gpu = 0; gpu < 4; ++gpu) {
    EXPECT_EQ(result.send_done[static_cast<std::size_t>(gpu)].ns(), 40'002'000);
    EXPECT_EQ(result.receive_done[static_cast<std::size_t>(gpu)].ns(), 40'002'000);
  }
  EXPECT_EQ(result.time.ns(), 40'002'000);
  // 4 x 3 = 12 flows; conservation: the first hops (NVLink up 0-3, NIC up 8-11) carry every
  // byte sent, 12 GB, and the last hops every byte received, 12 GB.
  EXPECT_EQ(result.flows, 12u);
  const Bytes sent =
      std::accumulate(result.link_bytes.begin(), result.link_bytes.begin() + 4, 0.0) +
      std::accumulate(result.link_bytes.begin() + 8, result.link_bytes.begin() + 12, 0.0);
  EXPECT_DOUBLE_EQ(sent, 12e9);
  EXPECT_DOUBLE_EQ(result.link_bytes[12], 2e9);  // GPU 0's NIC receives from GPUs 2 and 3
  // Inside the nodes: 0 <-> 1 and 2 <-> 3, four flows of 1 GB, each on two NVLink links but
  // 4 GB sent; the 8 flows between nodes are scale-out and not counted here.
  EXPECT_DOUBLE_EQ(result.scale_up_bytes, 4e9);
}

TEST(AllToAll, EfficiencyScalesTheLinkKind) {
  const TwoByTwo cluster;
  AllToAllOptions options;
  options.efficiency[LinkKind::Ib] = 0.8;
  const auto result = simulate_all_to_all(uniform(4, 1e9), cluster.paths(), cluster.links, options);
  // NICs deliver 0.8 x 50 = 40 GB/s, 20 each for two flows: 1 GB in 50 ms.
  EXPECT_EQ(result.time, ms(50));
}

TEST(AllToAll, HotReceiverGatesTheCollective) {
  const TwoByTwo cluster;
  ByteMatrix bytes = uniform(4, 0);
  bytes[0][2] = 4e9;
  bytes[1][2] = 1e9;
  const auto result = simulate_all_to_all(bytes, cluster.paths(), cluster.links);
  // GPU 2's NIC downlink is shared: 25 GB/s each. GPU 1's 1 GB is through at 40 ms; GPU 0 has
  // moved 1 GB of 4 by then and sends the other 3 at 50 GB/s: 60 ms more, 100 ms.
  EXPECT_EQ(result.send_done[1], ms(40));
  EXPECT_EQ(result.send_done[0], ms(100));
  EXPECT_EQ(result.receive_done[2], ms(100));
  EXPECT_EQ(result.send_done[3], SimTime::zero());  // nothing to send
  EXPECT_EQ(result.time, ms(100));
  EXPECT_DOUBLE_EQ(result.link_bytes[14], 5e9);  // 4 + 1 GB into GPU 2
}

TEST(AllToAll, OneNvSwitchNodeTakesBytesOverPortBandwidthPlusLatency) {
  // The check: 4 GPUs on one switch, 1 GB to each of the 3 others, 1 µs latency. Each
  // port carries 3 flows: 3 GB / 100 GB/s = 30 ms, plus 1 µs: 30,001,000 ns.
  const TwoByTwo cluster(SimTime::from_ns(1000));
  const PathFunction one_switch = [](int source, int destination) {
    return RoutedPath{FlowPath{{source, 4 + destination}}, SimTime::from_ns(1000)};
  };
  const auto result = simulate_all_to_all(uniform(4, 1e9), one_switch, cluster.links);
  EXPECT_EQ(result.time.ns(), 30'001'000);
}

TEST(AllToAll, HierarchicalDispatchRelaysOverTheSameRail) {
  const TwoByTwo cluster;
  ByteMatrix bytes = uniform(4, 0);
  bytes[0][3] = 1e9;  // node 0, local 0 -> node 1, local 1: cross-rail
  AllToAllOptions options;
  options.hierarchical = true;
  options.gpus_per_node = 2;
  const auto result = simulate_all_to_all(bytes, cluster.paths(), cluster.links, options);
  // RDMA to the relay GPU 2 (node 1, local 0): 1 GB at 50 GB/s, 20 ms; NVLink 2 -> 3 at 100 GB/s
  // runs alongside (pipelined), 10 ms. The pair is done at the later: 20 ms.
  EXPECT_EQ(result.time, ms(20));
  EXPECT_DOUBLE_EQ(result.link_bytes[12 + 2], 1e9);  // into the relay's NIC
  EXPECT_DOUBLE_EQ(result.link_bytes[12 + 3], 0.0);  // not into GPU 3's NIC
  EXPECT_DOUBLE_EQ(result.link_bytes[2], 1e9);       // relay's NVLink uplink forwards it
  EXPECT_DOUBLE_EQ(result.link_bytes[4 + 3], 1e9);
  EXPECT_EQ(result.receive_done[3], ms(20));
  // The RDMA leg is scale-out; the relay's forward to GPU 3 is 1 GB of scale-up traffic.
  EXPECT_DOUBLE_EQ(result.scale_up_bytes, 1e9);
}

TEST(AllToAll, NodeDeduplicationSendsATokenOncePerNode) {
  const TwoByTwo cluster;
  // GPU 0's tokens (1 GB) go to experts on both GPUs of node 1.
  ByteMatrix bytes = uniform(4, 0);
  bytes[0][2] = bytes[0][3] = 1e9;
  // Flat: both flows share GPU 0's NIC at 25 GB/s: 40 ms.
  EXPECT_EQ(simulate_all_to_all(bytes, cluster.paths(), cluster.links).time, ms(40));
  AllToAllOptions options;
  options.hierarchical = true;
  options.gpus_per_node = 2;
  // Hierarchical without dedup: 2 GB over the NIC to relay GPU 2 at 50 GB/s: 40 ms.
  EXPECT_EQ(simulate_all_to_all(bytes, cluster.paths(), cluster.links, options).time, ms(40));
  // With dedup the same tokens cross once: 1 GB at 50 GB/s, 20 ms; GPU 2 forwards 1 GB to
  // GPU 3 over NVLink in 10 ms alongside. 20 ms.
  options.node_bytes = {{0, 1e9}, {0, 0}, {0, 0}, {0, 0}};
  const auto deduplicated = simulate_all_to_all(bytes, cluster.paths(), cluster.links, options);
  EXPECT_EQ(deduplicated.time, ms(20));
  EXPECT_DOUBLE_EQ(deduplicated.link_bytes[8], 1e9);
}

TEST(AllToAll, FixedCostComesBeforeAnyByte) {
  const TwoByTwo cluster;
  ByteMatrix bytes = uniform(4, 0);
  bytes[0][1] = 1e9;
  AllToAllOptions options;
  options.fixed_cost = SimTime::from_ns(5000);
  const auto result = simulate_all_to_all(bytes, cluster.paths(), cluster.links, options);
  // 5 µs, then 1 GB over NVLink at 100 GB/s, 10 ms: 10,005,000 ns. Idle GPUs wait the 5 µs.
  EXPECT_EQ(result.time.ns(), 10'005'000);
  EXPECT_EQ(result.send_done[3].ns(), 5000);
}

TEST(AllToAll, CompletionToleranceBoundsTheErrorAndSavesSolves) {
  const TwoByTwo cluster;
  // Twelve flows of 1.00, 1.01, ..., 1.11 GB: twelve distinct finish times when exact.
  ByteMatrix bytes = uniform(4, 0);
  double size = 1e9;
  for (auto& row : bytes)
    for (Bytes& entry : row) entry = (size += 0.01e9);
  const auto exact = simulate_all_to_all(bytes, cluster.paths(), cluster.links);
  AllToAllOptions options;
  options.completion_tolerance = 0.05;
  const auto batched = simulate_all_to_all(bytes, cluster.paths(), cluster.links, options);
  // Each flow finishes at most 5% of its transfer time early, so the collective at most 5% early.
  EXPECT_LE(batched.time, exact.time);
  EXPECT_GE(batched.time.seconds(), exact.time.seconds() * 0.95);
  EXPECT_LT(batched.solves, exact.solves);
}

TEST(AllToAll, RejectsMalformedInput) {
  const TwoByTwo cluster;
  EXPECT_THROW(simulate_all_to_all({{0, 1}}, cluster.paths(), cluster.links),
               std::invalid_argument);
  EXPECT_THROW(simulate_all_to_all({{0, -1}, {0, 0}}, cluster.paths(), cluster.links),
               std::invalid_argument);
  AllToAllOptions options;
  options.hierarchical = true;
  options.gpus_per_node = 3;  // 4 GPUs do not split into nodes of 3
  EXPECT_THROW(simulate_all_to_all(uniform(4, 1), cluster.paths(), cluster.links, options),
               std::invalid_argument);
  options.gpus_per_node = 2;
  options.efficiency[LinkKind::Ib] = 1.5;
  EXPECT_THROW(simulate_all_to_all(uniform(4, 1), cluster.paths(), cluster.links, options),
               std::invalid_argument);
}

}  // namespace
}  // namespace moesim::sim
