#include "sim/placement/placement.hpp"

#include <gtest/gtest.h>

#include "sim/routing/expert_load.hpp"

namespace moesim::sim {
namespace {

TEST(ExpectedExpertLoad, UniformSplitsEvenly) {
  // 100 tokens x top-2 over 4 experts: 50 each.
  const auto load = expected_expert_load({0.25, 0.25, 0.25, 0.25}, 100, 2);
  for (double tokens : load) EXPECT_DOUBLE_EQ(tokens, 50);
}

TEST(ExpectedExpertLoad, NoExpertTakesMoreThanEveryToken) {
  // Popularity 0.7: uncapped 0.7 x 200 = 140 > 100 tokens, so expert 0 takes all 100 (one copy of
  // each token); the other 100 copies split over 0.3 of popularity: 33.3 each.
  const auto load = expected_expert_load({0.7, 0.1, 0.1, 0.1}, 100, 2);
  EXPECT_DOUBLE_EQ(load[0], 100);
  EXPECT_NEAR(load[1], 100.0 / 3, 1e-9);
  EXPECT_NEAR(load[3], 100.0 / 3, 1e-9);
}

TEST(ExpertPopularity, ZipfIsSeededAndSkewed) {
  RoutingSpec zipf{PopularityKind::Zipf, 1.0, 7};
  const auto a = expert_popularity(zipf, 8, 0);
  EXPECT_EQ(a, expert_popularity(zipf, 8, 0));
  // Zipf(1) over 8: the top expert has 1 / H_8 = 1 / 2.718 = 0.368 of the traffic.
  EXPECT_NEAR(*std::max_element(a.begin(), a.end()), 1.0 / 2.717857142857143, 1e-12);
}

TEST(Placement, ContiguousAndRoundRobin) {
  const std::vector<double> load(4, 1.0);
  const auto contiguous = make_placement({PlacementStrategy::Contiguous, 0, {}}, 4, 2, load);
  EXPECT_EQ(contiguous.slots[0], (std::vector<int>{0, 1}));
  const auto round_robin = make_placement({PlacementStrategy::RoundRobin, 0, {}}, 4, 2, load);
  EXPECT_EQ(round_robin.slots[0], (std::vector<int>{0, 2}));
}

TEST(Placement, RedundantSlotsReplicateTheHottestWhereTheyFit) {
  // Loads [100, 10, 10, 10] on 2 GPUs with 2 redundant slots (3 per GPU). Contiguous: G0 {0,1},
  // G1 {2,3}. Slot 1: expert 0 (100 per replica) goes to the lighter G1 (20 < 110). Slot 2: expert
  // 0 is now on both GPUs and G1 is full, so the next hottest expert G0 lacks, 2, goes to G0.
  // Each GPU then carries 50 + 10 + 5 = 65 tokens.
  const auto p = make_placement({PlacementStrategy::Contiguous, 2, {}}, 4, 2, {100, 10, 10, 10});
  EXPECT_EQ(p.slots[1], (std::vector<int>{2, 3, 0}));
  EXPECT_EQ(p.slots[0], (std::vector<int>{0, 1, 2}));
  const auto loads = gpu_loads(p, {100, 10, 10, 10});
  EXPECT_DOUBLE_EQ(loads[0], 65);
  EXPECT_DOUBLE_EQ(loads[1], 65);
}

TEST(Placement, UnevenExpertCountsSpreadByAtMostOne) {
  // 128 experts over 72 GPUs: 56 GPUs hold 2 and 16 hold 1 before redundancy.
  const auto p = make_placement({PlacementStrategy::Contiguous, 0, {}}, 128, 72,
                                std::vector<double>(128, 1.0));
  int twos = 0, ones = 0;
  for (const auto& slots : p.slots) (slots.size() == 2 ? twos : ones) += 1;
  EXPECT_EQ(twos, 56);
  EXPECT_EQ(ones, 16);
}

}  // namespace
}  // namespace moesim::sim
