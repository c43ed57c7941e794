#include "sim/network/max_min.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

namespace moesim::sim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(MaxMinSolver, NarrowLinkLimitsTheFlowThatCrossesIt) {
  // Link A (100 GB/s) carries f1 and f2; link B (40 GB/s) only f2.
  // B saturates first: f2 = 40; f1 takes the rest of A: 100 - 40 = 60.
  const auto rates = solve_max_min({100e9, 40e9}, {FlowPath{{0}}, FlowPath{{0, 1}}});
  EXPECT_DOUBLE_EQ(rates[1], 40e9);
  EXPECT_DOUBLE_EQ(rates[0], 60e9);
}

TEST(MaxMinSolver, FlowsOnOneLinkShareItEqually) {
  // Four flows on one 100 GB/s link: 100 / 4 = 25 GB/s each.
  const std::vector<FlowPath> flows(4, FlowPath{{0}});
  for (double rate : solve_max_min({100e9}, flows)) EXPECT_DOUBLE_EQ(rate, 25e9);
}

TEST(MaxMinSolver, ParkingLotGivesTheLongFlowTheFairShareOfEveryHop) {
  // Three links of 10 GB/s in a row; a long flow crosses all three, one short flow per link.
  // Every link carries two flows and saturates at 10 / 2 = 5: every flow gets 5.
  const std::vector<FlowPath> flows = {FlowPath{{0, 1, 2}}, FlowPath{{0}}, FlowPath{{1}},
                                       FlowPath{{2}}};
  for (double rate : solve_max_min({10e9, 10e9, 10e9}, flows)) EXPECT_DOUBLE_EQ(rate, 5e9);
}

TEST(MaxMinSolver, CapFreesBandwidthForTheOtherFlows) {
  // Three flows on a 90 GB/s link; f0 is capped at 10. Filling: the cap (10) is reached before
  // the link's share (30): f0 = 10, the others split 90 - 10 = 80: 40 each.
  std::vector<FlowPath> flows(3, FlowPath{{0}});
  flows[0].rate_cap = 10e9;
  const auto rates = solve_max_min({90e9}, flows);
  EXPECT_DOUBLE_EQ(rates[0], 10e9);
  EXPECT_DOUBLE_EQ(rates[1], 40e9);
  EXPECT_DOUBLE_EQ(rates[2], 40e9);
}

TEST(MaxMinSolver, CapAboveTheFairShareChangesNothing) {
  // Two flows on a 50 GB/s link, f0 capped at 30 > fair share 25: both get 25.
  std::vector<FlowPath> flows(2, FlowPath{{0}});
  flows[0].rate_cap = 30e9;
  const auto rates = solve_max_min({50e9}, flows);
  EXPECT_DOUBLE_EQ(rates[0], 25e9);
  EXPECT_DOUBLE_EQ(rates[1], 25e9);
}

TEST(MaxMinSolver, FlowOnNoLinksGetsItsCapOrInfinity) {
  // Nothing constrains f0: infinite rate; f1 has only its cap of 7.
  FlowPath capped;
  capped.rate_cap = 7e9;
  const auto rates = solve_max_min({}, {FlowPath{}, capped});
  EXPECT_EQ(rates[0], kInf);
  EXPECT_DOUBLE_EQ(rates[1], 7e9);
}

TEST(MaxMinSolver, ZeroCapacityLinkStopsItsFlowsOnly) {
  // Link 0 is down (0 B/s): f0 crosses it and gets 0, and uses nothing of link 1, so f1 has
  // link 1 (20 GB/s) alone: 20.
  const auto rates = solve_max_min({0.0, 20e9}, {FlowPath{{0, 1}}, FlowPath{{1}}});
  EXPECT_DOUBLE_EQ(rates[0], 0.0);
  EXPECT_DOUBLE_EQ(rates[1], 20e9);
}

TEST(MaxMinSolver, SharesSplitAFlowOverParallelLinks) {
  // An ECMP split: f0 puts half its bytes on each of two 10 GB/s uplinks, so at rate r it uses
  // r / 2 of each; alone it reaches 10 / 0.5 = 20. f1 also crosses uplink 0 in full.
  // Uplink 0: r0 / 2 + r1 = 10 with equal rates gives r = 10 / 1.5 = 6.67 on both; uplink 1
  // then carries only 3.33 of its 10, so neither flow can rise further: r0 = r1 = 20 / 3.
  FlowPath split{{0, 1}, {0.5, 0.5}};
  const auto rates = solve_max_min({10e9, 10e9}, {split, FlowPath{{0}}});
  EXPECT_NEAR(rates[0], 20e9 / 3, 1);
  EXPECT_NEAR(rates[1], 20e9 / 3, 1);
  // Alone, the split flow reaches 20.
  EXPECT_DOUBLE_EQ(solve_max_min({10e9, 10e9}, {split})[0], 20e9);
}

TEST(MaxMinSolver, RejectsMalformedInput) {
  EXPECT_THROW(solve_max_min({1.0}, {FlowPath{{1}}}), std::invalid_argument);
  EXPECT_THROW(solve_max_min({1.0}, {FlowPath{{-1}}}), std::invalid_argument);
  EXPECT_THROW(solve_max_min({-1.0}, {FlowPath{{0}}}), std::invalid_argument);
  EXPECT_THROW(solve_max_min({1.0}, {FlowPath{{0}, {0.5, 0.5}}}), std::invalid_argument);
  FlowPath negative_cap{{0}};
  negative_cap.rate_cap = -1;
  EXPECT_THROW(solve_max_min({1.0}, {negative_cap}), std::invalid_argument);
}

TEST(MaxMinSolver, ALinkWhoseShareRoseMeanwhileSaturatesAtItsNewShare) {
  // Link 0 (10 GB/s): f0, f1. Link 1 (12 GB/s): f1, f2. Link 2 (13 GB/s): f3, f4.
  // Fair shares at the start: 5, 6 and 6.5. Link 0 saturates first: f0 = f1 = 5. That leaves
  // link 1 with 12 - 5 = 7 for f2 alone, above link 2's 6.5, so link 2 goes next (f3 = f4 = 6.5)
  // and link 1 last (f2 = 7), though link 1 was queued at 6.
  const std::vector<FlowPath> flows = {FlowPath{{0}}, FlowPath{{0, 1}}, FlowPath{{1}},
                                       FlowPath{{2}}, FlowPath{{2}}};
  std::vector<const FlowPath*> paths;
  for (const FlowPath& flow : flows) paths.push_back(&flow);
  std::vector<LinkId> bottleneck;
  const auto rates = solve_max_min({10e9, 12e9, 13e9}, paths, false, &bottleneck);
  EXPECT_EQ(rates, (std::vector<double>{5e9, 5e9, 7e9, 6.5e9, 6.5e9}));
  EXPECT_EQ(bottleneck, (std::vector<LinkId>{0, 0, 1, 2, 2}));
}

TEST(MaxMinSolver, LinksStayWithinCapacityAndEveryFlowHasABottleneck) {
  // A 64-GPU all-to-all over a two-level fabric: GPU g has an uplink (id g) and a downlink
  // (id 64 + g) of 50 GB/s; the 8 GPUs of a node share one 100 GB/s node uplink (128 + node)
  // and downlink (136 + node). Max-min's defining properties, checked for every flow: no link
  // over capacity, and each flow crosses a saturated link on which no flow is faster.
  std::vector<double> capacity(144, 50e9);
  for (int node = 0; node < 8; ++node) capacity[128 + node] = capacity[136 + node] = 100e9;
  std::vector<FlowPath> flows;
  for (int src = 0; src < 64; ++src)
    for (int dst = 0; dst < 64; ++dst) {
      if (src == dst) continue;
      if (src / 8 == dst / 8)
        flows.push_back(FlowPath{{src, 64 + dst}});
      else
        flows.push_back(FlowPath{{src, 128 + src / 8, 136 + dst / 8, 64 + dst}});
    }
  const auto rates = solve_max_min(capacity, flows);
  std::vector<double> load(capacity.size(), 0.0), fastest(capacity.size(), 0.0);
  for (std::size_t f = 0; f < flows.size(); ++f)
    for (LinkId link : flows[f].links) {
      load[static_cast<std::size_t>(link)] += rates[f];
      fastest[static_cast<std::size_t>(link)] =
          std::max(fastest[static_cast<std::size_t>(link)], rates[f]);
    }
  for (std::size_t link = 0; link < capacity.size(); ++link)
    EXPECT_LE(load[link], capacity[link] * (1 + 1e-12));
  for (std::size_t f = 0; f < flows.size(); ++f) {
    bool bottlenecked = false;
    for (LinkId link : flows[f].links) {
      const auto l = static_cast<std::size_t>(link);
      bottlenecked |= load[l] >= capacity[l] * (1 - 1e-9) && rates[f] >= fastest[l] * (1 - 1e-9);
    }
    EXPECT_TRUE(bottlenecked) << "flow " << f;
  }
  // By symmetry: each node uplink carries 8 senders x 56 remote peers = 448 flows:
  // 100 / 448 GB/s each, which is below the GPU links' 50 / 63: remote flows get 100/448.
  EXPECT_NEAR(rates[8], 100e9 / 448, 1);
}

TEST(MaxMinSolver, SolvesA256GpuAllToAll) {
  // 256 x 255 = 65,280 flows over 1,024 links (GPU up/down, node up/down, as above with 32
  // nodes). Its speed is tests/bench's (all_to_all_bench.cpp), not a unit test's.
  std::vector<double> capacity(1024, 50e9);
  std::vector<FlowPath> flows;
  flows.reserve(256 * 255);
  for (int src = 0; src < 256; ++src)
    for (int dst = 0; dst < 256; ++dst) {
      if (src == dst) continue;
      if (src / 8 == dst / 8)
        flows.push_back(FlowPath{{src, 256 + dst}});
      else
        flows.push_back(FlowPath{{src, 512 + src / 8, 768 + dst / 8, 256 + dst}});
    }
  const auto rates = solve_max_min(capacity, flows);
  // A node uplink carries 8 x 248 = 1,984 remote flows: 50 / 1984 GB/s each.
  EXPECT_NEAR(rates[8], 50e9 / 1984, 1);
}

}  // namespace
}  // namespace moesim::sim
