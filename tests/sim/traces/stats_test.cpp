#include "sim/traces/stats.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace moesim::sim {
namespace {

TEST(TraceStats, CountsImbalanceEntropyAndCoActivationOfAKnownLayer) {
  // tokens {0,1}, {0,2}, {0,1} over 4 experts: counts 3, 2, 1, 0.
  std::vector<TraceBlock> blocks{{0, 0, 3, {0, 1, 0, 2, 0, 1}, {}}};
  auto source = make_block_source({1, 4, 2, ScoreType::None}, std::move(blocks));
  const auto stats = compute_trace_stats(*source);
  ASSERT_EQ(stats.layers.size(), 1U);
  const auto& layer = stats.layers[0];
  EXPECT_EQ(layer.tokens_per_expert, (std::vector<std::uint64_t>{3, 2, 1, 0}));
  EXPECT_EQ(layer.tokens, 3U);
  // mean 6 / 4 = 1.5; max 3: 3 / 1.5 = 2
  EXPECT_DOUBLE_EQ(layer.imbalance, 2.0);
  // p = 1/2, 1/3, 1/6: H = 1/2 log2 2 + 1/3 log2 3 + 1/6 log2 6
  EXPECT_NEAR(layer.entropy_bits, 0.5 + std::log2(3.0) / 3 + std::log2(6.0) / 6, 1e-12);
  EXPECT_EQ(layer.hottest, (std::vector<std::uint32_t>{0, 1, 2, 3}));
  // pairs: {0,1} twice, {0,2} once
  ASSERT_EQ(layer.coactivated.size(), 2U);
  EXPECT_EQ(layer.coactivated[0].a, 0U);
  EXPECT_EQ(layer.coactivated[0].b, 1U);
  EXPECT_EQ(layer.coactivated[0].tokens, 2U);
  EXPECT_EQ(layer.coactivated[1].tokens, 1U);
  const auto json = trace_stats_to_json(stats);
  EXPECT_EQ(json["layers"][0]["tokens_per_expert"], nlohmann::json({3, 2, 1, 0}));
}

TEST(TraceStats, CoActivationTablesAreBoundedOverAllLayers) {
  // 512 layers x 512^2 = 2^27 pair cells (1 GiB) is past the 2^24 cap: none recorded. 2 layers x
  // 512^2 = 2^19 cells is inside it: each layer holds 512^2 = 262,144.
  auto many = make_block_source({512, 512, 2, ScoreType::None}, {});
  EXPECT_TRUE(compute_trace_stats(*many).layers[0].coactivation.empty());
  auto few = make_block_source({2, 512, 2, ScoreType::None}, {});
  EXPECT_EQ(compute_trace_stats(*few).layers[1].coactivation.size(), 262144U);
}

TEST(TraceStats, CoActivationCountsAPairWhicheverOrderTheTokenListsIt) {
  // tokens {1,0}, {0,1}, {2,0} over 3 experts: pair {0,1} twice, {0,2} once, stored at [a][b], a <
  // b
  std::vector<TraceBlock> blocks{{0, 0, 3, {1, 0, 0, 1, 2, 0}, {}}};
  auto source = make_block_source({1, 3, 2, ScoreType::None}, std::move(blocks));
  const auto stats = compute_trace_stats(*source);
  const auto& pairs = stats.layers[0].coactivation;
  ASSERT_EQ(pairs.size(), 9U);
  EXPECT_EQ(pairs[0 * 3 + 1], 2U);
  EXPECT_EQ(pairs[0 * 3 + 2], 1U);
  EXPECT_EQ(pairs[1 * 3 + 2], 0U);
  // the lower triangle stays empty
  EXPECT_EQ(pairs[1 * 3 + 0] + pairs[2 * 3 + 0] + pairs[2 * 3 + 1], 0U);
  ASSERT_EQ(stats.layers[0].coactivated.size(), 2U);
  EXPECT_EQ(stats.layers[0].coactivated[0].tokens, 2U);
}

TEST(TraceStats, CountMatricesReportTheirCountsWithoutCoActivation) {
  // 8 tokens x top-1 spread 6, 2: mean 4, imbalance 6 / 4 = 1.5
  auto source = make_count_source({2, 1, {7}, {{6, 2}}}, 1, "m.json");
  const auto stats = compute_trace_stats(*source);
  EXPECT_FALSE(stats.per_token);
  EXPECT_EQ(stats.layers[0].layer, 7);
  EXPECT_EQ(stats.layers[0].tokens, 8U);
  EXPECT_DOUBLE_EQ(stats.layers[0].imbalance, 1.5);
  EXPECT_TRUE(trace_stats_to_json(stats)["layers"][0]["coactivated_pairs"].is_null());
}

}  // namespace
}  // namespace moesim::sim
