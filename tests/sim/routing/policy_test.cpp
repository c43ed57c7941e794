#include "sim/routing/policy.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include "base/config_error.hpp"
#include "sim/report/report.hpp"
#include "sim/run/simulate.hpp"

namespace moesim::sim {
namespace {

PolicySpec capacity(double factor, DropPolicy drop = DropPolicy::Position) {
  PolicySpec policy;
  policy.capacity_factor = factor;
  policy.drop = drop;
  return policy;
}

// 4 experts on 2 GPUs, contiguous: experts 0 and 1 on GPU 0, experts 2 and 3 on GPU 1.
Placement two_gpus() { return make_placement(PlacementSpec{}, 4, 2, {}); }

double sum(const std::vector<double>& values) {
  return std::accumulate(values.begin(), values.end(), 0.0);
}

// Two ranks of 4 tokens, top-2 over 4 experts: rows are (first choice, second choice).
// clang-format off
constexpr std::uint32_t kCraftedIds[] = {
    0, 1,  0, 2,  0, 1,  1, 0,   // rank 0: t0..t3
    3, 2,  3, 2,  3, 2,  2, 3};  // rank 1: t4..t7
// clang-format on

TEST(RoutingPolicy, SlotCapacityIsMegatronsPerRankCeil) {
  // ceil(4096 x 2 / 8 x 1.25) = ceil(1280) = 1280; ceil(10 x 1 / 3 x 1) = ceil(3.33) = 4.
  EXPECT_DOUBLE_EQ(slot_capacity(capacity(1.25), 4096, 2, 8), 1280);
  EXPECT_DOUBLE_EQ(slot_capacity(capacity(1.0), 10, 1, 3), 4);
  EXPECT_DOUBLE_EQ(slot_capacity(capacity(0), 10, 1, 3), 0);  // dropless has no capacity
}

TEST(RoutingPolicy, DropCountsOnACraftedRouting) {
  // Per rank: 4 tokens x top-2 / 4 experts x f 1 = capacity 2 per expert. GShard order (all first
  // choices, then all second choices):
  // rank 0: e0 gets t0, t1, t2 (firsts) and t3 (second): keeps t0, t1, drops t2's first and t3's
  //   second; e1 gets t3 (first), t0, t2 (seconds): drops t2's second; e2 keeps t1's second.
  //   t2 lost both copies. Rank 0 drops 3.
  // rank 1: e3 gets t4, t5, t6 (firsts) and t7 (second): drops t6's first and t7's second;
  //   e2 gets t7 (first), t4, t5, t6 (seconds): keeps t7, t4, drops t5's and t6's seconds.
  //   t6 lost both copies. Rank 1 drops 4.
  TokenRouting routing{
      .experts = 4, .top_k = 2, .ranks = 2, .expert_ids = kCraftedIds, .scores = {}, .source = "t"};
  const auto out = apply_policy_tokens(capacity(1.0), two_gpus(), routing);
  EXPECT_DOUBLE_EQ(out.capacity, 2);
  EXPECT_EQ(out.dropped, (std::vector<double>{2, 1, 2, 2}));
  EXPECT_EQ(out.kept, (std::vector<double>{2, 2, 3, 2}));
  EXPECT_EQ(out.dropped_per_rank, (std::vector<double>{3, 4}));
  // GPU 0 holds e0 and e1 (2 + 1 dropped), GPU 1 holds e2 and e3 (2 + 2).
  EXPECT_EQ(out.dropped_per_gpu, (std::vector<double>{3, 4}));
  EXPECT_DOUBLE_EQ(out.unrouted_tokens, 2);  // t2 and t6
  EXPECT_EQ(out.unrouted_per_rank, (std::vector<double>{1, 1}));
  EXPECT_FALSE(out.unrouted_estimated);
  // Conservation: 8 tokens x 2 = 16 routed copies = 9 kept + 7 dropped, per expert too.
  EXPECT_DOUBLE_EQ(sum(out.routed), 16);
  for (std::size_t e = 0; e < 4; ++e) EXPECT_DOUBLE_EQ(out.routed[e], out.kept[e] + out.dropped[e]);
}

TEST(RoutingPolicy, PositionAndScoreDropDifferentTokens) {
  // Rank 0 of the crafted routing alone (capacity ceil(4 x 2 / 4) = 2), with scores. Expert 0
  // receives t0 .6, t1 .55, t2 .9 (firsts) and t3 .3 (second).
  // position keeps t0, t1 and drops t2's first choice; t2's second (e1, behind t3's first and t0's
  //   second) is dropped too: t2 is unrouted.
  // probs keeps t2 (.9) and t0 (.6), drops t1's first (.55); t1 keeps its second at e2: no token
  //   loses both copies. Both drop 3 copies (e0 two, e1 one).
  const std::span<const std::uint32_t> ids(kCraftedIds, 8);
  const float scores[] = {.6f, .4f, .55f, .45f, .9f, .1f, .7f, .3f};
  TokenRouting routing{
      .experts = 4, .top_k = 2, .ranks = 1, .expert_ids = ids, .scores = scores, .source = "t"};
  const auto by_position =
      apply_policy_tokens(capacity(1.0, DropPolicy::Position), two_gpus(), routing);
  const auto by_score = apply_policy_tokens(capacity(1.0, DropPolicy::Probs), two_gpus(), routing);
  EXPECT_EQ(by_position.dropped, (std::vector<double>{2, 1, 0, 0}));
  EXPECT_EQ(by_score.dropped, (std::vector<double>{2, 1, 0, 0}));
  EXPECT_DOUBLE_EQ(by_position.unrouted_tokens, 1);
  EXPECT_DOUBLE_EQ(by_score.unrouted_tokens, 0);
}

TEST(RoutingPolicy, ScoreDropWithoutScoresIsAnError) {
  TokenRouting routing{.experts = 4,
                       .top_k = 2,
                       .ranks = 2,
                       .expert_ids = kCraftedIds,
                       .scores = {},
                       .source = "t.npy"};
  try {
    apply_policy_tokens(capacity(1.0, DropPolicy::Probs), two_gpus(), routing);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("t.npy: /policy/drop: expected \"position\""),
              std::string::npos)
        << error.what();
  }
  // Dropless never orders copies, so it needs no scores.
  EXPECT_NO_THROW(apply_policy_tokens(capacity(0, DropPolicy::Probs), two_gpus(), routing));
}

// Counts of two ranks of 5 tokens, top-2 over 4 experts: 10 copies per rank, expert 0 hot.
RankCounts hot_expert_counts() { return {{{4, 2, 2, 2}, {4, 2, 2, 2}}, {5, 5}}; }

TEST(RoutingPolicy, CapacityIsCeiledPerRankNotPerGroup) {
  // Per rank: ceil(5 x 2 / 4 x 1) = ceil(2.5) = 3, so expert 0 drops 4 - 3 = 1 on each rank: 2.
  // (A capacity over the group, ceil(10 x 2 / 4) = 5 shared by both ranks, would drop 3.)
  const auto out = apply_policy(capacity(1.0), two_gpus(), hot_expert_counts(), 2, {});
  EXPECT_DOUBLE_EQ(out.capacity, 3);
  EXPECT_EQ(out.dropped, (std::vector<double>{2, 0, 0, 0}));
  EXPECT_EQ(out.dropped_per_rank, (std::vector<double>{1, 1}));
  EXPECT_EQ(out.dropped_per_gpu, (std::vector<double>{2, 0}));  // expert 0 lives on GPU 0
  EXPECT_EQ(out.computed, out.kept);
  EXPECT_DOUBLE_EQ(sum(out.kept) + sum(out.dropped), sum(out.routed));
}

TEST(RoutingPolicy, MinCapacityFloorsASmallCapacity) {
  // f 0.25: ceil(5 x 2 / 4 x 0.25) = ceil(0.625) = 1; every expert keeps 1 per rank and drops
  // (4-1) + 3 x (2-1) = 6 per rank, 12 in all. With min_capacity 2: expert 0 drops 2 per rank, 4.
  auto policy = capacity(0.25);
  EXPECT_DOUBLE_EQ(sum(apply_policy(policy, two_gpus(), hot_expert_counts(), 2, {}).dropped), 12);
  policy.min_capacity = 2;
  const auto floored = apply_policy(policy, two_gpus(), hot_expert_counts(), 2, {});
  EXPECT_DOUBLE_EQ(floored.capacity, 2);
  EXPECT_EQ(floored.dropped, (std::vector<double>{4, 0, 0, 0}));
}

TEST(RoutingPolicy, PadToCapacityComputesTheFullCapacity) {
  // Capacity 3 per rank (above): padded, every expert computes 3 rows from each of 2 ranks = 6,
  // though experts 1-3 received 4 real copies; kept stays the real tokens.
  auto policy = capacity(1.0);
  policy.pad_to_capacity = true;
  const auto out = apply_policy(policy, two_gpus(), hot_expert_counts(), 2, {});
  EXPECT_EQ(out.computed, (std::vector<double>{6, 6, 6, 6}));
  EXPECT_EQ(out.kept, (std::vector<double>{6, 4, 4, 4}));
}

TEST(RoutingPolicy, TutelDynamicCapacityPadsToTheLargestLoad) {
  // Dropless with padding: the largest per-slot load over ranks and experts is 4 (expert 0 on
  // rank 0), so every expert computes 4 rows from each of 2 ranks = 8 and nothing is dropped.
  auto policy = capacity(0);
  policy.pad_to_capacity = true;
  const RankCounts counts{{{4, 2, 2, 2}, {1, 3, 3, 3}}, {5, 5}};
  const auto out = apply_policy(policy, two_gpus(), counts, 2, {});
  EXPECT_DOUBLE_EQ(out.capacity, 4);
  EXPECT_EQ(out.computed, (std::vector<double>{8, 8, 8, 8}));
  EXPECT_EQ(out.kept, (std::vector<double>{5, 5, 5, 5}));
  EXPECT_DOUBLE_EQ(sum(out.dropped), 0);
}

TEST(RoutingPolicy, ReplicasMultiplyCapacityAndShareTheDrops) {
  // Expert 0 on both GPUs: 2 slots x capacity 3 = 6 per rank; 8 routed per rank drops 2, 4 in all,
  // split evenly over its two GPUs.
  Placement placement;
  placement.gpus = 2;
  placement.replicas = {{0, 1}, {0}, {1}, {1}};
  placement.slots = {{0, 1}, {0, 2, 3}};
  const RankCounts counts{{{8, 1, 1, 0}, {8, 1, 1, 0}}, {5, 5}};
  const auto out = apply_policy(capacity(1.0), placement, counts, 2, {});
  EXPECT_EQ(out.dropped, (std::vector<double>{4, 0, 0, 0}));
  EXPECT_EQ(out.dropped_per_gpu, (std::vector<double>{2, 2}));
}

TEST(RoutingPolicy, TopOneDropsAreUnroutedTokens) {
  // With one copy per token, each dropped copy is a token that reaches no expert: exact, no sample.
  const RankCounts counts{{{3, 1, 0, 1}}, {5}};  // capacity ceil(5 x 1 / 4) = 2: expert 0 drops 1
  const auto out = apply_policy(capacity(1.0), two_gpus(), counts, 1, {});
  EXPECT_DOUBLE_EQ(sum(out.dropped), 1);
  EXPECT_DOUBLE_EQ(out.unrouted_tokens, 1);
  EXPECT_EQ(out.unrouted_per_rank, (std::vector<double>{1}));
  EXPECT_FALSE(out.unrouted_estimated);
}

TEST(ExpertChoice, EachExpertTakesItsTopTokensAndOneIsLeftOut) {
  // 6 tokens, 3 experts, k 1, f 1: C = ceil(6 x 1 / 3 x 1) = 2.
  // e0's column: t1 .6, t0 .5 taken. e1's: t2 .5, then t0 and t3 tie at .4 and token order takes
  // t0. e2's: t4 .7, t5 .4. Taken: t0 twice, t1, t2, t4, t5 once; t3 by no expert.
  const std::vector<std::vector<double>> scores = {{.5, .4, .1}, {.6, .3, .1}, {.2, .5, .3},
                                                   {.4, .4, .2}, {.1, .2, .7}, {.3, .3, .4}};
  const int capacities[] = {2, 2, 2};
  EXPECT_EQ(expert_choice_picks(scores, capacities), (std::vector<int>{2, 1, 1, 0, 1, 1}));
}

TEST(ExpertChoice, CountsFillEveryExpertAndEstimateTheUnrouted) {
  // 2 ranks of 6 tokens, 3 experts, k 1, f 0.5: C = ceil(6 x 1 / 3 x 0.5) = 1 per rank. Every
  // expert takes exactly 1 token per rank (3 x 1 x 2 = 6 kept, nothing dropped), so at most 3 of
  // each rank's 6 tokens are taken: at least 3 x 2 = 6 are unrouted.
  PolicySpec policy = capacity(0.5);
  policy.routing = RoutingMode::ExpertChoice;
  Placement three;
  three.gpus = 3;
  three.replicas = {{0}, {1}, {2}};
  three.slots = {{0}, {1}, {2}};
  const RankCounts counts{{{2, 2, 2}, {2, 2, 2}}, {6, 6}};
  const auto out = apply_policy(policy, three, counts, 1, {.popularity = {}, .seed = 7});
  EXPECT_EQ(out.kept, (std::vector<double>{2, 2, 2}));
  EXPECT_DOUBLE_EQ(sum(out.dropped), 0);
  EXPECT_TRUE(out.unrouted_estimated);
  EXPECT_GE(out.unrouted_tokens, 6);
  EXPECT_LE(out.unrouted_tokens, 12);
  // Same seed, same estimate.
  EXPECT_DOUBLE_EQ(
      apply_policy(policy, three, counts, 1, {.popularity = {}, .seed = 7}).unrouted_tokens,
      out.unrouted_tokens);
  // C = 6 (f 3): every expert takes every token, none is left out.
  policy.capacity_factor = 3;
  EXPECT_DOUBLE_EQ(apply_policy(policy, three, counts, 1, {}).unrouted_tokens, 0);
}

TEST(SyntheticScores, TopChoiceFollowsThePopularity) {
  // Gumbel-max: the argmax of log p + Gumbel noise is expert e with probability p_e. Over 20,000
  // tokens the standard error of a share is at most sqrt(.25 / 20000) = .0035; allow .02.
  const auto scores = synthetic_scores({.popularity = {5, 3, 2}, .seed = 11}, 20000);
  std::vector<double> share(3, 0.0);
  for (const auto& row : scores) {
    EXPECT_NEAR(sum(row), 1.0, 1e-12);  // a softmax row
    share[std::max_element(row.begin(), row.end()) - row.begin()] += 1.0 / 20000;
  }
  EXPECT_NEAR(share[0], 0.5, 0.02);
  EXPECT_NEAR(share[1], 0.3, 0.02);
  EXPECT_NEAR(share[2], 0.2, 0.02);
}

// quickstart (Mixtral-8x7B, EP 8 on one HGX H100 node, 4096 tokens per GPU, top-2) priced by the
// roofline so expert times derive by hand.
ScenarioSpec policy_quickstart() {
  auto s = load_scenario("quickstart");
  s.profile.source = "roofline";
  return s;
}

TEST(RoutingPolicySimulation, TighterCapacityDropsMoreAndShortensTheExpertPhase) {
  // Zipf 1.2 routing: the hot expert receives more than either capacity (per rank
  // 4096 x 2 / 8 x f = 1024 f), so its GPU computes exactly its capacity: f 1.0 drops more copies
  // than f 1.5 and its slowest GPU finishes sooner.
  auto loose = policy_quickstart();
  loose.workload.routing = {PopularityKind::Zipf, 1.2, 1};
  loose.policy.capacity_factor = 1.5;
  auto tight = loose;
  tight.policy.capacity_factor = 1.0;
  const auto loose_report = simulate(loose);
  const auto tight_report = simulate(tight);
  EXPECT_GT(tight_report.dropped_tokens, loose_report.dropped_tokens);
  EXPECT_LT(tight_report.layers[0].phases.experts, loose_report.layers[0].phases.experts);
  // Per layer, kept + dropped = the routed copies: 4096 tokens x 8 GPUs x 2 = 65,536.
  for (const auto& layer : tight_report.layers) {
    double kept = 0, dropped_per_expert = 0, dropped_per_gpu = 0;
    for (double tokens : layer.tokens_per_expert) kept += tokens;
    for (double tokens : layer.dropped_per_expert) dropped_per_expert += tokens;
    for (double tokens : layer.dropped_per_gpu) dropped_per_gpu += tokens;
    EXPECT_NEAR(kept + layer.dropped_tokens, 65536, 1e-6);
    EXPECT_NEAR(dropped_per_expert, layer.dropped_tokens, 1e-6);
    EXPECT_NEAR(dropped_per_gpu, layer.dropped_tokens, 1e-6);  // one EP group, one micro-batch
  }
}

TEST(RoutingPolicySimulation, PaddedExpertsComputeTheirWholeCapacity) {
  // Uniform routing gives each expert 8192 copies; f 1.25 allows 1024 x 1.25 = 1280 per rank, so
  // nothing drops, but padded every expert computes 1280 x 8 ranks = 10,240 rows:
  // 2 x 176,160,768 parameters x 10,240 at 0.6 x 989e12 FLOP/s.
  auto s = policy_quickstart();
  s.policy.capacity_factor = 1.25;
  s.policy.pad_to_capacity = true;
  const auto report = simulate(s);
  EXPECT_DOUBLE_EQ(report.dropped_tokens, 0);
  EXPECT_NEAR(report.layers[0].phases.experts, 2.0 * 176160768.0 * 10240 / (0.6 * 989e12), 1e-12);
  EXPECT_NEAR(report.layers[0].tokens_per_expert[0], 8192, 1e-9);  // the real tokens, not padding
}

TEST(RoutingPolicySimulation, ExpertChoiceDropsNothingAndCountsUnroutedTokens) {
  // Each expert takes C = ceil(4096 x 2 / 8 x 1) = 1024 tokens per rank: 8192 per expert, the
  // same as uniform top-2, nothing dropped; some tokens are taken by no expert.
  auto s = policy_quickstart();
  s.policy.routing = RoutingMode::ExpertChoice;
  const auto report = simulate(s);
  EXPECT_EQ(report.routing, "expert-choice");
  EXPECT_DOUBLE_EQ(report.dropped_tokens, 0);
  EXPECT_NEAR(report.layers[0].tokens_per_expert[3], 8192, 1e-9);
  EXPECT_GT(report.unrouted_tokens, 0);
  EXPECT_TRUE(report.unrouted_estimated);
  const auto json = report_to_json(report);
  EXPECT_DOUBLE_EQ(json["summary"]["unrouted_tokens"].get<double>(), report.unrouted_tokens);
}

}  // namespace
}  // namespace moesim::sim
