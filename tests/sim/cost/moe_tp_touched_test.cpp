// Under MoE TP every shard runs the rows of its whole shard group, so an expert is touched when any
// of the group's tokens picks it, not only this rank's share.
#include <gtest/gtest.h>

#include <vector>

#include "sim/cost/layer_cost_model.hpp"

namespace moesim::sim {
namespace {

TEST(MoeTensorParallel, ExpertsAreTouchedByEveryTokenOfTheShardGroup) {
  ScenarioSpec s = parse_scenario(
      R"({"schema_version": 1, "model": "mixtral-8x7b", "cluster": "h100x8",
          "parallelism": {"expert_parallel": 1, "moe_tensor_parallel": 2}})",
      "moe-tp.json");
  s.model.experts = 4;
  s.model.top_k = 1;
  const LayerCostModel cost(s, nullptr);
  // One token a rank, top-1 over 4 experts: 0.25 copies an expert. The 2 shards together run 2
  // tokens, so an expert is touched with P = 1 - (3/4)^2 = 0.4375 (one rank's token alone: 0.25),
  // and then runs 0.5 / 0.4375 rows. 4 x 0.4375 = 1.75 experts' weights are read, not 1.
  const double touched = 1 - 0.75 * 0.75;
  const double expected = 4 * touched * cost.expert_time(0.25 / touched);
  EXPECT_NEAR(cost.gpu_experts_time({0.25, 0.25, 0.25, 0.25}, 1), expected, expected * 1e-12);
}

}  // namespace
}  // namespace moesim::sim
