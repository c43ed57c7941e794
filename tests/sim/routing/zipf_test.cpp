#include "sim/routing/zipf.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "sim/routing/expert_load.hpp"
#include "sim/routing/generators.hpp"

namespace moesim::sim {
namespace {

TEST(Zipf, RankingIsAPermutationFixedBySeedAndLayer) {
  const auto ranks = zipf_ranking(7, 3, 64);
  auto sorted = ranks;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::uint32_t> every(64);
  std::iota(every.begin(), every.end(), 0U);
  EXPECT_EQ(sorted, every);                  // each rank once
  EXPECT_EQ(ranks, zipf_ranking(7, 3, 64));  // same seed and layer: same ranking
  EXPECT_NE(ranks, zipf_ranking(7, 4, 64));  // another layer shuffles anew
  EXPECT_NE(ranks, zipf_ranking(8, 3, 64));  // and so does another seed
}

TEST(Zipf, WeightFallsAsAPowerOfTheRank) {
  // rank 0 weighs 1 / 1^s = 1; rank 3 under s = 2 weighs 1 / 4^2 = 1/16.
  EXPECT_DOUBLE_EQ(zipf_weight(0, 1.2), 1.0);
  EXPECT_DOUBLE_EQ(zipf_weight(3, 2.0), 1.0 / 16);
}

// The point of one generator: a scenario's Zipf popularity and `trace gen --kind zipf` with the
// same seed make the same expert hot in every layer, with weights in the same proportions.
TEST(Zipf, ScenarioPopularityAndTraceGeneratorAgree) {
  const RoutingSpec routing{PopularityKind::Zipf, 1.3, 11};
  TraceGenerator generator({.kind = TraceGeneratorKind::Zipf,
                            .layers = 3,
                            .experts = 16,
                            .top_k = 2,
                            .tokens = 8,
                            .zipf_exponent = 1.3,
                            .seed = 11});
  for (int layer = 0; layer < 3; ++layer) {
    const auto popularity = expert_popularity(routing, 16, layer);
    const auto& weights = generator.layer_weights(static_cast<std::uint32_t>(layer));
    ASSERT_EQ(weights.size(), popularity.size());
    // popularity is normalised to sum 1; the generator's weights are not: compare the ratios.
    const double scale = popularity[0] / weights[0];
    for (std::size_t e = 0; e < weights.size(); ++e)
      EXPECT_NEAR(popularity[e], weights[e] * scale, 1e-12) << "layer " << layer << " expert " << e;
  }
}

}  // namespace
}  // namespace moesim::sim
