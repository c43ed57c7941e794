// The flow network's incremental re-solve after completions (flow_network.cpp): it must give the
// rates a full re-solve gives, and skip the solve when no remaining flow can change rate.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "sim/network/flow_network.hpp"

namespace moesim::sim {
namespace {

SimTime seconds(double value) { return SimTime::from_seconds(value); }

TEST(IncrementalSolve, CompletionOffEveryBottleneckCostsNoSolve) {
  EventQueue queue;
  FlowNetwork network(queue, {10, 10});
  const FlowId short_flow = network.add_flow(FlowPath{{0}}, 10, SimTime::zero());
  const FlowId long_flow = network.add_flow(FlowPath{{1}}, 100, SimTime::zero());
  queue.run();
  // Each flow has its own 10 B/s link: 10 / 10 = 1 s and 100 / 10 = 10 s. The first finish frees
  // link 0, which bottlenecks nothing that remains: one solve in all, when both joined.
  EXPECT_EQ(network.finish_time(short_flow), seconds(1));
  EXPECT_EQ(network.finish_time(long_flow), seconds(10));
  EXPECT_EQ(network.solve_count(), 1u);
}

TEST(IncrementalSolve, CompletionOnABottleneckReSolvesTheFlowsItHeld) {
  EventQueue queue;
  // Link A = 0 at 10 B/s, link B = 1 at 30 B/s.
  FlowNetwork network(queue, {10, 30});
  const FlowId a_only = network.add_flow(FlowPath{{0}}, 10, SimTime::zero());
  const FlowId both = network.add_flow(FlowPath{{0, 1}}, 100, SimTime::zero());
  const FlowId b_only = network.add_flow(FlowPath{{1}}, 100, SimTime::zero());
  queue.run();
  // Filling: A fills at 10 / 2 = 5 before B at 30 / 2 = 15, freezing a_only and both at 5; B's
  // 30 - 5 = 25 goes to b_only. a_only ends at 10 / 5 = 2 s; both has 90 left, b_only 50.
  EXPECT_EQ(network.finish_time(a_only), seconds(2));
  // A was both's bottleneck, so both (5) and everything at or above it (b_only, 25) re-solve:
  // A gives both 10, B the other 20 to b_only. b_only ends at 2 + 50 / 20 = 4.5 s; both has
  // 90 - 2.5 x 10 = 65 left and then B's 30 but A's 10: 4.5 + 65 / 10 = 11 s.
  EXPECT_EQ(network.finish_time(b_only), seconds(4.5));
  EXPECT_EQ(network.finish_time(both), seconds(11));
  // Two solves: the joins, and a_only's finish. b_only's finish frees B, but the one flow left
  // froze at A, so its rate cannot change and there is no third.
  EXPECT_EQ(network.solve_count(), 2u);
}

struct Played {
  std::vector<SimTime> finish;
  std::size_t solves = 0;
};

// Random flows over shared links with ECMP-like shares, caps, latencies and sizes.
Played play(std::uint32_t seed, bool incremental) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  constexpr int kLinks = 24, kFlows = 300;
  std::vector<BytesPerSecond> capacity;
  for (int link = 0; link < kLinks; ++link) capacity.push_back(1e9 * (1 + 9 * unit(random)));
  EventQueue queue;
  FlowNetwork network(queue, capacity, FlowNetworkOptions{0.0, incremental});
  std::vector<FlowId> flows;
  for (int f = 0; f < kFlows; ++f) {
    FlowPath path;
    const int hops = 1 + static_cast<int>(unit(random) * 4);
    for (int hop = 0; hop < hops; ++hop) {
      const auto link = static_cast<LinkId>(unit(random) * kLinks);
      if (std::find(path.links.begin(), path.links.end(), link) != path.links.end()) continue;
      path.links.push_back(link);
      path.shares.push_back(unit(random) < 0.3 ? 0.25 : 1.0);
    }
    if (unit(random) < 0.1) path.rate_cap = 1e8 * (1 + unit(random));
    const Bytes bytes = 1e6 * (1 + 99 * unit(random));
    const SimTime latency = SimTime::from_ns(static_cast<std::int64_t>(unit(random) * 2e5));
    flows.push_back(network.add_flow(path, bytes, latency));
  }
  queue.run();
  Played played;
  for (FlowId flow : flows) played.finish.push_back(network.finish_time(flow));
  played.solves = network.solve_count();
  return played;
}

TEST(IncrementalSolve, RandomNetworksFinishWhenAFullReSolveSaysWithFewerSolves) {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    const Played full = play(seed, false);
    const Played incremental = play(seed, true);
    ASSERT_EQ(full.finish.size(), incremental.finish.size());
    // The same rates up to the order of floating-point sums: a finish may move by a
    // nanosecond of rounding, and by nothing more.
    for (std::size_t f = 0; f < full.finish.size(); ++f)
      EXPECT_NEAR(static_cast<double>(incremental.finish[f].ns()),
                  static_cast<double>(full.finish[f].ns()),
                  2 + 1e-9 * static_cast<double>(full.finish[f].ns()))
          << "seed " << seed << " flow " << f;
    EXPECT_LE(incremental.solves, full.solves) << "seed " << seed;
  }
}

}  // namespace
}  // namespace moesim::sim
