#include "sim/routing/expert_load.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <numeric>
#include <vector>

namespace moesim::sim {
namespace {

double sum_of(const std::vector<double>& values) {
  return std::accumulate(values.begin(), values.end(), 0.0);
}

std::vector<double> sorted_descending(std::vector<double> values) {
  std::sort(values.begin(), values.end(), std::greater<>());
  return values;
}

// The same shares up to rounding: the normalising sum adds them in a permuted order.
void expect_same_shares(const std::vector<double>& a, const std::vector<double>& b) {
  const auto sorted_a = sorted_descending(a);
  const auto sorted_b = sorted_descending(b);
  ASSERT_EQ(sorted_a.size(), sorted_b.size());
  for (std::size_t i = 0; i < sorted_a.size(); ++i) EXPECT_NEAR(sorted_a[i], sorted_b[i], 1e-15);
}

TEST(ExpertPopularity, UniformGivesEveryExpertAnEqualShare) {
  const RoutingSpec uniform{PopularityKind::Uniform, 1.0, 1};
  const auto popularity = expert_popularity(uniform, 5, 3);
  ASSERT_EQ(popularity.size(), 5u);
  for (double share : popularity) EXPECT_DOUBLE_EQ(share, 0.2);  // 1 / 5
}

TEST(ExpertPopularity, ZipfSharesFollowOneOverRankToTheExponent) {
  const RoutingSpec zipf{PopularityKind::Zipf, 2.0, 3};
  const auto popularity = sorted_descending(expert_popularity(zipf, 4, 0));
  // Weights 1, 1/4, 1/9, 1/16 sum to (144 + 36 + 16 + 9) / 144 = 205 / 144; share r = w_r x 144 /
  // 205.
  EXPECT_NEAR(popularity[0], 144.0 / 205, 1e-12);
  EXPECT_NEAR(popularity[1], 36.0 / 205, 1e-12);
  EXPECT_NEAR(popularity[2], 16.0 / 205, 1e-12);
  EXPECT_NEAR(popularity[3], 9.0 / 205, 1e-12);
}

TEST(ExpertPopularity, ZipfExponentZeroIsUniform) {
  // r^0 = 1 for every rank.
  const RoutingSpec flat{PopularityKind::Zipf, 0.0, 9};
  for (double share : expert_popularity(flat, 4, 1)) EXPECT_DOUBLE_EQ(share, 0.25);
}

TEST(ExpertPopularity, EachLayerShufflesTheSameSharesDifferently) {
  const RoutingSpec zipf{PopularityKind::Zipf, 1.0, 11};
  const auto layer0 = expert_popularity(zipf, 16, 0);
  const auto layer1 = expert_popularity(zipf, 16, 1);
  // Same multiset of shares (the ranks are permuted, not changed)...
  expect_same_shares(layer0, layer1);
  // ...but the hot expert moves: the permutation is seeded by (seed, layer).
  EXPECT_NE(layer0, layer1);
  EXPECT_NEAR(sum_of(layer0), 1.0, 1e-12);
}

TEST(ExpertPopularity, AnotherSeedGivesAnotherRanking) {
  const auto a = expert_popularity({PopularityKind::Zipf, 1.0, 1}, 16, 0);
  const auto b = expert_popularity({PopularityKind::Zipf, 1.0, 2}, 16, 0);
  EXPECT_NE(a, b);
  expect_same_shares(a, b);
}

TEST(ExpectedExpertLoad, CapsCascadeUntilNoExpertExceedsTheTokens) {
  // 100 tokens x top-3 = 300 copies over {0.5, 0.3, 0.1, 0.1}.
  // Round 1: lambda = 300 / 1 -> 150, 90, 30, 30: expert 0 exceeds 100 and is capped.
  // Round 2: 200 copies over 0.5 of popularity, lambda = 400 -> 120, 40, 40: expert 1 capped.
  // Round 3: 100 copies over 0.2, lambda = 500 -> 50, 50: nobody exceeds 100.
  const auto load = expected_expert_load({0.5, 0.3, 0.1, 0.1}, 100, 3);
  EXPECT_DOUBLE_EQ(load[0], 100);
  EXPECT_DOUBLE_EQ(load[1], 100);
  EXPECT_NEAR(load[2], 50, 1e-9);
  EXPECT_NEAR(load[3], 50, 1e-9);
}

TEST(ExpectedExpertLoad, LoadsAlwaysSumToTokensTimesTopK) {
  const RoutingSpec zipf{PopularityKind::Zipf, 1.2, 5};
  for (int top_k : {1, 2, 8}) {
    const auto load = expected_expert_load(expert_popularity(zipf, 32, 0), 1000, top_k);
    SCOPED_TRACE(top_k);
    // Every copy lands somewhere: 1000 x k.
    EXPECT_NEAR(sum_of(load), 1000.0 * top_k, 1e-6);
    for (double tokens : load) EXPECT_LE(tokens, 1000.0 + 1e-9);
  }
}

TEST(ExpectedExpertLoad, TopKEqualToExpertsSendsEveryTokenEverywhere) {
  // 10 tokens x top-3 over 3 experts: each token visits all three, so each expert sees 10 however
  // skewed the popularity (0.9 caps first, the other two then split 20 copies as 10 and 10).
  const auto load = expected_expert_load({0.9, 0.05, 0.05}, 10, 3);
  for (double tokens : load) EXPECT_NEAR(tokens, 10, 1e-9);
}

TEST(ExpectedExpertLoad, NoTokensNoLoad) {
  for (double tokens : expected_expert_load({0.5, 0.5}, 0, 2)) EXPECT_DOUBLE_EQ(tokens, 0);
}

TEST(ExpectedExpertLoad, FractionalTokensAreKeptForAveragedLoads) {
  // 2.5 tokens x top-1 over {0.6, 0.4}: 1.5 and 1.0, both under the 2.5 cap.
  const auto load = expected_expert_load({0.6, 0.4}, 2.5, 1);
  EXPECT_NEAR(load[0], 1.5, 1e-12);
  EXPECT_NEAR(load[1], 1.0, 1e-12);
}

}  // namespace
}  // namespace moesim::sim
