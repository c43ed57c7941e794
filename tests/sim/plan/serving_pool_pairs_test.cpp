// Prefill and decode pools of different shapes in a disaggregated plan.
#include "sim/plan/serving_pool_pairs.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "sim/plan/plan.hpp"
#include "sim/plan/serving_plan.hpp"

namespace moesim::sim {
namespace {

// Shape A: 8 GPUs, prefill 10 req/s, decode 4 req/s an instance (a fast prefill node, little KV).
// Shape B: 16 GPUs, prefill 12 req/s, decode 20 req/s (room for a large decode batch). $2/GPU-hour.
std::vector<PoolShape> two_shapes() {
  return {{.candidate = 0,
           .gpus_per_instance = 8,
           .usd_per_gpu_hour = 2,
           .prefill_requests_per_s = 10,
           .decode_requests_per_s = 4},
          {.candidate = 1,
           .gpus_per_instance = 16,
           .usd_per_gpu_hour = 2,
           .prefill_requests_per_s = 12,
           .decode_requests_per_s = 20}};
}

TEST(PoolPairs, ADifferentDecodeShapeIsCheaperByHand) {
  // 10 req/s at 80% utilisation. Prefill: A ceil(10 / 8) = 2 instances = 16 GPUs = $32; B
  // ceil(10 / 9.6) = 2 = 32 GPUs = $64. Decode: A ceil(10 / 3.2) = 4 = 32 GPUs = $64; B
  // ceil(10 / 16) = 1 = 16 GPUs = $32. Same shape: A+A $96, B+B $96; crossed: A+B $64, B+A $128.
  const auto pairs = pair_pool_shapes(two_shapes(), 10, kMaxPoolPairs);
  ASSERT_EQ(pairs.size(), 4u);
  const auto find = [&](std::size_t p, std::size_t d) {
    return *std::find_if(pairs.begin(), pairs.end(),
                         [&](const PoolPair& x) { return x.prefill == p && x.decode == d; });
  };
  EXPECT_DOUBLE_EQ(find(0, 0).usd_per_hour, 96);
  EXPECT_DOUBLE_EQ(find(1, 1).usd_per_hour, 96);
  EXPECT_DOUBLE_EQ(find(1, 0).usd_per_hour, 128);
  const PoolPair best = find(0, 1);
  EXPECT_EQ(best.prefill_instances, 2);
  EXPECT_EQ(best.decode_instances, 1);
  EXPECT_EQ(best.gpus, 32);
  EXPECT_DOUBLE_EQ(best.usd_per_hour, 64);
  for (const auto& pair : pairs) EXPECT_GE(pair.usd_per_hour, best.usd_per_hour);
}

TEST(PoolPairs, PastTheCapOnlyTheCheapestShapesOfEachRoleCross) {
  // Three shapes and at most 4 pairs: k = 2 of each role cross. Prefill prices: A $32, B $64,
  // C (64 GPUs, 1 instance) $128, so A and B; decode: A $64, B $32, C $128, so B and A. The
  // crossed pairs are A+B and B+A; C keeps its own pairing: A+A, A+B, B+A, B+B, C+C.
  auto shapes = two_shapes();
  shapes.push_back({.candidate = 2,
                    .gpus_per_instance = 64,
                    .usd_per_gpu_hour = 2,
                    .prefill_requests_per_s = 100,
                    .decode_requests_per_s = 100});
  const auto pairs = pair_pool_shapes(shapes, 10, 4);
  ASSERT_EQ(pairs.size(), 5u);
  for (const auto& pair : pairs)
    if (pair.prefill == 2 || pair.decode == 2) {
      EXPECT_EQ(pair.prefill, pair.decode);
    }
}

// Mixtral-8x7B disaggregated on one or two H100 nodes at EP 4 or 8: every prefill shape meets
// every decode shape.
const char* kCrossPlan = R"({
  "schema_version": 1, "name": "cross",
  "base": {"model": "mixtral-8x7b", "workload": {"kind": "decode"}, "profile": "roofline"},
  "search": {
    "clusters": [{"system": "hgx-h100", "nodes": [1, 2], "fabric": "ib-fat-tree",
                  "usd_per_gpu_hour": 2, "price_date": "2026-11-01"}],
    "expert_parallel": [8]
  },
  "serving": {
    "mode": "disaggregated",
    "traffic": {"rate_per_s": 10, "duration_s": 30, "input_tokens": 1000, "output_tokens": 100},
    "sla": {"ttft_p90_ms": 2000, "tpot_p90_ms": 60},
    "batching": {"max_batch_per_rank": 64},
    "keep": 4
  }
})";

TEST(PoolPairs, ADisaggregatedPlanCrossesEveryShapeAndStaysCheapestFirst) {
  const auto plan = parse_plan(kCrossPlan, "cross.json");
  ASSERT_TRUE(plan.serving && plan.serving->cross_shapes);
  ASSERT_EQ(plan.candidates.size(), 2u);  // 1 and 2 nodes at EP 8
  const auto result = run_serving_plan(plan, 1);
  ASSERT_EQ(result.outcomes.size(), 4u);  // 2 prefill shapes x 2 decode shapes
  int crossed = 0;
  for (const auto& o : result.outcomes) {
    crossed += o.prefill_candidate != o.candidate ? 1 : 0;
    // Each pool is priced on its own shape.
    EXPECT_EQ(o.gpus, o.prefill_instances * o.prefill_gpus_per_instance +
                          o.decode_instances * o.gpus_per_instance)
        << o.label;
  }
  EXPECT_EQ(crossed, 2);
  const auto& chosen = result.outcomes.front();
  ASSERT_EQ(chosen.verdict, ServingVerdict::Feasible) << chosen.reason;
  for (const auto& o : result.outcomes)
    if (o.verdict == ServingVerdict::Feasible) {
      EXPECT_LE(chosen.usd_per_hour, o.usd_per_hour);
    }
}

TEST(PoolPairs, SameShapesKeepsOneShapeForBothPools) {
  std::string text = kCrossPlan;
  text.replace(text.find("\"mode\": \"disaggregated\""), 23,
               "\"mode\": \"disaggregated\", \"pool_shapes\": \"same\"");
  const auto result = run_serving_plan(parse_plan(text, "same.json"), 1);
  ASSERT_EQ(result.outcomes.size(), 2u);
  for (const auto& o : result.outcomes) EXPECT_EQ(o.prefill_candidate, -1);
}

}  // namespace
}  // namespace moesim::sim
