#include "sim/routing/trace_policy.hpp"

#include <gtest/gtest.h>

#include "base/config_error.hpp"
#include "sim/run/simulate.hpp"

namespace moesim::sim {
namespace {

// A one-MoE-layer model with 4 experts, top-2, at EP 2 on an 8-GPU node (4 EP groups), 4 tokens
// per GPU: one EP group and micro-batch plays 8 tokens, 4 per rank.
ScenarioSpec tiny(const std::string& drop) {
  return parse_scenario(R"({"schema_version": 1,
    "model": {"layers": 1, "moe_layers": 1, "hidden": 64, "experts": 4, "top_k": 2, "expert_ffn": 128},
    "cluster": "h100x8", "parallelism": {"expert_parallel": 2}, "profile": "roofline",
    "policy": {"capacity_factor": 1.0, "drop": ")" +
                            drop + R"("}, "workload": {"tokens_per_gpu": 4}})",
                        "tiny.json");
}

// The crafted routing of routing_policy_test.cpp: ranks of 4 tokens, (first, second) choices.
TraceBlock crafted_block(std::uint32_t step) {
  return {.step = step,
          .layer = 0,
          .tokens = 8,
          .expert_ids = {0, 1, 0, 2, 0, 1, 1, 0, 3, 2, 3, 2, 3, 2, 2, 3},
          .scores = {}};
}

std::vector<RoutingOutcome> outcomes_of(const ScenarioSpec& s, std::vector<TraceBlock> blocks) {
  const TraceShape shape{.layers = 1, .experts = 4, .top_k = 2, .scores = ScoreType::None};
  auto source = make_block_source(shape, std::move(blocks));
  const std::vector<Placement> placements = {make_placement(s.placement, 4, 2, {})};
  return trace_routing_outcomes(*source, s, placements, "crafted.mtrace");
}

TEST(TracePolicy, RecordedTokensAreDroppedCopyByCopy) {
  // One batch of 8 tokens = the scenario's group batch; routing_policy_test derives the drops
  // (capacity 2 per rank): experts lose 2, 1, 2, 2 copies, GPUs 3 and 4, tokens t2 and t6 all.
  const auto s = tiny("position");
  const auto outcomes = outcomes_of(s, {crafted_block(0)});
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_EQ(outcomes[0].dropped, (std::vector<double>{2, 1, 2, 2}));
  EXPECT_DOUBLE_EQ(outcomes[0].unrouted_tokens, 2);

  // Replayed: 4 EP groups x 1 micro-batch each drop the same 7 copies and lose 2 tokens per step.
  SimulationOverrides overrides;
  overrides.expert_popularity = {{4, 3, 5, 4}};  // the block's routed copies per expert
  overrides.placements = {make_placement(s.placement, 4, 2, {})};
  overrides.routing_outcomes = outcomes;
  const auto report = simulate(s, {}, overrides);
  EXPECT_DOUBLE_EQ(report.dropped_tokens, 7.0 * 4);
  EXPECT_DOUBLE_EQ(report.unrouted_tokens, 2.0 * 4);
  EXPECT_FALSE(report.unrouted_estimated);
  EXPECT_EQ(report.layers[0].dropped_per_gpu, (std::vector<double>{3, 4}));
  EXPECT_EQ(report.layers[0].unrouted_per_gpu,
            (std::vector<double>{1, 1}));                  // t2 from rank 0, t6 from 1
  EXPECT_DOUBLE_EQ(report.per_gpu[3].unrouted_tokens, 1);  // GPU 3 is rank 1 of the second group
}

TEST(TracePolicy, StepsAreSummedThenScaledToTheScenarioTokens) {
  // Two recorded steps of the same 8 tokens: 16 tokens, 14 drops; scaled by 8 / 16 per group.
  const auto s = tiny("position");
  const auto outcomes = outcomes_of(s, {crafted_block(0), crafted_block(1)});
  EXPECT_DOUBLE_EQ(outcomes[0].tokens, 16);
  SimulationOverrides overrides;
  overrides.expert_popularity = {{4, 3, 5, 4}};
  overrides.routing_outcomes = outcomes;
  EXPECT_DOUBLE_EQ(simulate(s, {}, overrides).dropped_tokens, 7.0 * 4);
}

TEST(TracePolicy, ScoreDropOnATraceWithoutScoresNamesTheTrace) {
  try {
    outcomes_of(tiny("probs"), {crafted_block(0)});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("crafted.mtrace: /policy/drop"), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace moesim::sim
