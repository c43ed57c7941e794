#include "sim/placement/strategies.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/config_error.hpp"

namespace moesim::sim {
namespace {

TEST(PlacementStrategies, LptBalancesWhatContiguousCannot) {
  // loads 7, 5, 4, 2 on 2 GPUs with 2 slots each. Contiguous: {0,1} = 12, {2,3} = 6, mean 9:
  // 12 / 9 = 4/3. LPT, heaviest first to the lighter GPU: 7 -> g0, 5 -> g1, 4 -> g1 (5 < 7),
  // 2 -> g0: 9 and 9, imbalance 1.
  PlacementInputs in{.experts = 4, .gpus = 2, .expert_load = {7, 5, 4, 2}};
  EXPECT_DOUBLE_EQ(
      placement_imbalance(place_experts(PlacementStrategy::Contiguous, in), in.expert_load),
      4.0 / 3.0);
  const auto lpt = place_experts(PlacementStrategy::Lpt, in);
  EXPECT_EQ(lpt.slots, (std::vector<std::vector<int>>{{0, 3}, {1, 2}}));
  EXPECT_DOUBLE_EQ(placement_imbalance(lpt, in.expert_load), 1.0);
}

TEST(PlacementStrategies, BalancedPackingAndReplicationFollowEplb) {
  // weights 12, 2, 12, 6 into 2 packs of 2: 12 (g0) -> p0, 12 (g2) -> p1, 6 (g3) -> p0 (tie, lower
  // index), 2 (g1) -> p1.
  EXPECT_EQ(balanced_packing({12, 2, 12, 6}, 2), (std::vector<int>{0, 1, 1, 0}));
  // loads 10, 2, 3, 3 and 2 extra replicas: 10/1 is the max, then 10/2 = 5 still beats 3: counts
  // 3,1,1,1.
  EXPECT_EQ(replicate_experts({10, 2, 3, 3}, 2), (std::vector<int>{3, 1, 1, 1}));
}

TEST(PlacementStrategies, HierarchicalEplbWorkedByHand) {
  // 8 experts in 4 groups of 2, 2 nodes x 2 GPUs, 4 redundant: 12 / 4 = 3 slots per GPU.
  // loads 10 2 | 1 1 | 6 6 | 3 3 -> group loads 12, 2, 12, 6.
  // Groups -> nodes (as above): node 0 = groups 0, 3 = experts {0, 1, 6, 7}; node 1 = {2, 3, 4, 5}.
  // Node 0, 2 extra replicas: expert 0 twice (10 -> 5 -> 3.33 beats 3): items 3.33 x3 (e0), 3 (e6),
  //   3 (e7), 2 (e1). Packing onto GPUs 0, 1 (3 slots), preferring a GPU without the expert:
  //   e0 -> g0, e0 -> g1, e0 -> g0 (both hold it; tie to g0), e6 -> g1, e7 -> g1 (6.33 < 6.67),
  //   e1 -> g0 (the only room): g0 = 3.33 x 2 + 2 = 8.67, g1 = 3.33 + 3 + 3 = 9.33.
  // Node 1, 2 extra: e4 (6 -> 3), then e5 (6 -> 3): items 3,3 (e4), 3,3 (e5), 1 (e2), 1 (e3):
  //   e4 -> g2, e4 -> g3, e5 -> g2, e5 -> g3, e2 -> g2, e3 -> g3: both 7.
  // Total 32, mean 8, max 9.33 = 28/3: imbalance 28/3 / 8 = 7/6.
  PlacementInputs in{.experts = 8,
                     .gpus = 4,
                     .nodes = 2,
                     .redundant = 4,
                     .expert_load = {10, 2, 1, 1, 6, 6, 3, 3},
                     .groups = 4};
  const auto placement = place_experts(PlacementStrategy::Eplb, in);
  EXPECT_EQ(placement.slots,
            (std::vector<std::vector<int>>{{0, 0, 1}, {0, 6, 7}, {4, 5, 2}, {4, 5, 3}}));
  EXPECT_NEAR(placement_imbalance(placement, in.expert_load), 7.0 / 6.0, 1e-12);
  EXPECT_EQ(placement.replicas[0], (std::vector<int>{0, 0, 1}));
}

TEST(PlacementStrategies, GlobalEplbWhenGroupsDoNotDivideNodes) {
  // 3 groups cannot split over 2 nodes: global replication + packing, same as LPT with replicas.
  PlacementInputs in{
      .experts = 6, .gpus = 2, .nodes = 2, .expert_load = {6, 5, 4, 3, 2, 1}, .groups = 3};
  const auto eplb = place_experts(PlacementStrategy::Eplb, in);
  EXPECT_EQ(eplb.slots, place_experts(PlacementStrategy::Lpt, in).slots);
}

TEST(PlacementStrategies, TopologyAwareKeepsCoActivatedExpertsOnOneNode) {
  // 4 experts, 2 nodes x 1 GPU. Experts 0 and 3 are always chosen together, as are 1 and 2; equal
  // loads. Expert 0 goes first (to node 0); expert 1 has no affinity with it: lightest node, node
  // 1; expert 2 pairs with 1 (node 1), expert 3 with 0 (node 0).
  std::vector<double> coactivation(16, 0.0);
  coactivation[0 * 4 + 3] = 100;
  coactivation[1 * 4 + 2] = 100;
  PlacementInputs in{.experts = 4,
                     .gpus = 2,
                     .nodes = 2,
                     .expert_load = {1, 1, 1, 1},
                     .coactivation = coactivation};
  const auto placement = place_experts(PlacementStrategy::TopologyAware, in);
  EXPECT_EQ(placement.slots, (std::vector<std::vector<int>>{{0, 3}, {1, 2}}));
}

TEST(PlacementStrategies, ExplicitFilesAreValidated) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("moesim-placement-" + std::to_string(::getpid()) + ".json");
  std::ofstream(path) << R"({"gpus": [[0, 1], [2, 2]]})";
  PlacementInputs in{
      .experts = 4, .gpus = 2, .expert_load = {1, 1, 1, 1}, .placement_file = path.string()};
  try {
    place_experts(PlacementStrategy::Explicit, in);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    // expert 2 twice on GPU 1, expert 3 nowhere: two problems
    ASSERT_EQ(error.problems().size(), 2U);
    EXPECT_EQ(error.problems()[0].where, "/gpus/1/1");
    EXPECT_EQ(error.problems()[1].message, "expected every expert placed; expert 3 is on no GPU");
  }
  std::ofstream(path) << R"({"gpus": [[0, 3], [2, 1]]})";
  EXPECT_EQ(place_experts(PlacementStrategy::Explicit, in).replicas[3], (std::vector<int>{0}));
  // Session 12: with both, "layers" won and "gpus" was dropped; an unknown field passed.
  std::ofstream(path) << R"({"gpus": [[0, 3], [2, 1]], "layers": [{"gpus": [[0, 1], [2, 3]]}],
                             "extra": 1})";
  try {
    place_experts(PlacementStrategy::Explicit, in);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.problems().size(), 2U);
    EXPECT_EQ(error.problems()[0].where, "/extra");
    EXPECT_EQ(error.problems()[1].where, "/layers");
  }
}

TEST(PlacementStrategies, UnevenSlotsAndUnknownStrategiesAreRefused) {
  // 4 experts + 1 redundant = 5 slots cannot split over 2 GPUs
  PlacementInputs in{.experts = 4, .gpus = 2, .redundant = 1, .expert_load = {1, 1, 1, 1}};
  EXPECT_THROW(place_experts(PlacementStrategy::Lpt, in), ConfigError);
  in.redundant = 0;
  EXPECT_FALSE(choice_from_name<PlacementStrategy>("random").has_value());
}

}  // namespace
}  // namespace moesim::sim
