#include "sim/routing/generators.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace moesim::sim {
namespace {

// Tokens per expert summed over every block of layer `layer`.
std::vector<double> counts(GeneratorSpec spec, std::uint32_t layer) {
  TraceGenerator generator(spec);
  std::vector<double> per_expert(spec.experts, 0.0);
  TraceBlock block;
  while (generator.next(block))
    if (block.layer == layer)
      for (auto e : block.expert_ids) per_expert[e] += 1;
  return per_expert;
}

TEST(RoutingGenerators, SameSeedGivesTheSameRoutingAndAnotherSeedDoesNot) {
  GeneratorSpec spec{.kind = TraceGeneratorKind::Zipf,
                     .layers = 2,
                     .experts = 16,
                     .top_k = 4,
                     .tokens = 64,
                     .steps = 3,
                     .drift = 0.5,
                     .burst_probability = 0.5,
                     .layer_correlation = 0.3,
                     .seed = 7};
  TraceGenerator a(spec), b(spec);
  spec.seed = 8;
  TraceGenerator c(spec);
  TraceBlock block_a, block_b, block_c;
  bool any_difference = false;
  int blocks = 0;
  while (a.next(block_a)) {
    ASSERT_TRUE(b.next(block_b));
    ASSERT_TRUE(c.next(block_c));
    EXPECT_EQ(block_a.expert_ids, block_b.expert_ids);
    any_difference = any_difference || block_a.expert_ids != block_c.expert_ids;
    ++blocks;
  }
  EXPECT_EQ(blocks, 6);  // 3 steps x 2 layers
  EXPECT_TRUE(any_difference);
}

TEST(RoutingGenerators, TopKIsWithoutReplacementEvenUnderHeavySkew) {
  // Zipf s = 8 over 8 experts: rank 0 has weight 1, rank 1 only 2^-8, so repeats are the norm and
  // the sampler must skip them (falling back to Gumbel-top-k when rejections pile up).
  TraceGenerator generator({.kind = TraceGeneratorKind::Zipf,
                            .experts = 8,
                            .top_k = 8,
                            .tokens = 50,
                            .zipf_exponent = 8});
  TraceBlock block;
  ASSERT_TRUE(generator.next(block));
  for (std::uint32_t t = 0; t < block.tokens; ++t) {
    std::vector<std::uint32_t> ids(block.expert_ids.begin() + t * 8,
                                   block.expert_ids.begin() + (t + 1) * 8);
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
  }
}

TEST(RoutingGenerators, UniformSpreadsLoadEvenly) {
  // 40,000 tokens x top-2 over 8 experts: each expert expects 40,000 x 2 / 8 = 10,000; the binomial
  // spread is sqrt(40,000 x 0.25 x 0.75) ~ 87, so 3% (300) is > 3 sigma.
  const auto per_expert = counts({.experts = 8, .top_k = 2, .tokens = 40000}, 0);
  for (double c : per_expert) EXPECT_NEAR(c, 10000, 300);
}

TEST(RoutingGenerators, ZipfHottestExpertMatchesTheHarmonicShare) {
  // s = 1, 4 experts, top-1: weights 1, 1/2, 1/3, 1/4 sum to 25/12, so the hottest takes 12/25 =
  // 0.48 of 100,000 tokens = 48,000 (binomial sigma ~ 158; 1,000 is > 6 sigma).
  const auto per_expert =
      counts({.kind = TraceGeneratorKind::Zipf, .experts = 4, .top_k = 1, .tokens = 100000}, 0);
  EXPECT_NEAR(*std::max_element(per_expert.begin(), per_expert.end()), 48000, 1000);
  // and the coldest 3/25 = 0.12 -> 12,000
  EXPECT_NEAR(*std::min_element(per_expert.begin(), per_expert.end()), 12000, 1000);
}

TEST(RoutingGenerators, GroupLimitedKeepsEachTokenInsideItsGroups) {
  // 8 experts in 4 groups of 2, topk_group 1, top-2: both choices come from one group, i.e. the
  // pair is {2g, 2g+1}.
  TraceGenerator generator({.kind = TraceGeneratorKind::GroupLimited,
                            .experts = 8,
                            .top_k = 2,
                            .tokens = 500,
                            .n_group = 4,
                            .topk_group = 1});
  TraceBlock block;
  ASSERT_TRUE(generator.next(block));
  for (std::uint32_t t = 0; t < block.tokens; ++t)
    EXPECT_EQ(block.expert_ids[2 * t] / 2, block.expert_ids[2 * t + 1] / 2);
}

TEST(RoutingGenerators, FullLayerCorrelationCarriesLoadAcrossLayersByRank) {
  // With correlation 1 every layer-1 token maps its layer-0 choices rank for rank, so layer 1's
  // sorted per-expert counts equal layer 0's.
  GeneratorSpec spec{.kind = TraceGeneratorKind::Zipf,
                     .layers = 2,
                     .experts = 16,
                     .top_k = 2,
                     .tokens = 2000,
                     .layer_correlation = 1};
  auto layer0 = counts(spec, 0);
  auto layer1 = counts(spec, 1);
  std::sort(layer0.begin(), layer0.end());
  std::sort(layer1.begin(), layer1.end());
  EXPECT_EQ(layer0, layer1);
}

TEST(RoutingGenerators, DriftMovesTheHotExpert) {
  // drift 1 swaps experts/2 = 32 random rank pairs per step: after 20 steps the rank-0 expert of
  // step 0 is, with overwhelming probability, no longer rank 0.
  TraceGenerator generator({.kind = TraceGeneratorKind::Zipf,
                            .experts = 64,
                            .top_k = 1,
                            .tokens = 1,
                            .steps = 20,
                            .drift = 1});
  const auto first = generator.layer_weights(0);
  TraceBlock block;
  for (int i = 0; i < 19; ++i) generator.next(block);
  EXPECT_NE(first, generator.layer_weights(0));
}

TEST(RoutingGenerators, InvalidSpecsListEveryProblem) {
  try {
    TraceGenerator generator(
        {.kind = TraceGeneratorKind::GroupLimited, .experts = 10, .top_k = 0, .n_group = 3});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    // top_k 0 and n_group 3 (not a divisor of 10): two problems
    EXPECT_EQ(error.problems().size(), 2U);
    EXPECT_EQ(error.problems()[1].message, "expected a divisor of experts = 10, got 3");
  }
}

TEST(RoutingGenerators, SizesPastTheLimitsAreRefusedBeforeAllocating) {
  // Issue 16: --experts 1000000000 --tokens 1 took 3.9 GB of per-layer tables for one token.
  try {
    TraceGenerator generator({.experts = 1'000'000'000, .top_k = 2, .tokens = 1});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_STREQ(error.what(),
                 "generator: /experts: expected experts <= 8192 (docs/limits.md), got 1000000000");
  }
  // 2^24 tokens x top-8 = 2^27 choices > 2^26 in one block.
  try {
    validate_generator_spec({.experts = 64, .top_k = 8, .tokens = 1U << 24});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_STREQ(error.what(),
                 "generator: /tokens: expected tokens x top_k <= 67108864 (docs/limits.md), got "
                 "16777216 x 8");
  }
}

}  // namespace
}  // namespace moesim::sim
