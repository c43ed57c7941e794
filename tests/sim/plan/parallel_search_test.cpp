// The plan's MoE TP, pipeline and ZeRO search, and the layouts no stack runs (issue 22).
#include "sim/plan/parallel_search.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "sim/plan/plan.hpp"

namespace moesim::sim {
namespace {

TEST(ParallelSearch, ServingStacksRunOneMoeGroupOverTheReplica) {
  // 8 GPUs, TP 8: MoE TP 8 x EP 1 fills them (vLLM's default); MoE TP 2 x EP 2 leaves 4 idle.
  const LayoutShape tp8{false, 8, 8, 1};
  EXPECT_EQ(stack_rejection({8, 1, 1}, tp8), "");
  const std::string why = stack_rejection({2, 1, 1}, {false, 8, 8, 2});
  EXPECT_NE(why.find("MoE TP 2 x EP 2 = 4 GPUs"), std::string::npos) << why;
  EXPECT_NE(stack_rejection({1, 2, 1}, tp8).find("training only"), std::string::npos);
}

TEST(ParallelSearch, PipelinesTakeZeroOneAtMost) {
  const LayoutShape train{true, 64, 2, 8};
  EXPECT_EQ(stack_rejection({1, 4, 1}, train), "");
  EXPECT_NE(stack_rejection({1, 4, 2}, train).find("ZeRO 2 with pipeline parallel"),
            std::string::npos);
  EXPECT_EQ(stack_rejection({1, 1, 3}, train), "");  // ZeRO 3 without a pipeline: FSDP-like
}

TEST(ParallelSearch, ThePlanSearchesTheLayoutsAndSaysWhyItRejectsOne) {
  const PlanSpec plan = parse_plan(R"({"schema_version": 1, "name": "pp",
      "base": {"model": "mixtral-8x7b", "workload": {"kind": "training", "tokens_per_gpu": 8192},
               "profile": "roofline"},
      "search": {"clusters": [{"system": "hgx-h100", "nodes": [8], "usd_per_gpu_hour": 2.99,
                               "price_date": "2026-11-01"}],
                 "expert_parallel": [8], "attention_tensor_parallel": [2],
                 "pipeline_parallel": [1, 4], "zero_stages": [1, 2]}})",
                                   "pp.json");
  // 1 cluster x EP 8 x TP 2 x {PP 1, 4} x {ZeRO 1, 2} = 4 candidates; PP 4 with ZeRO 2 is refused.
  ASSERT_EQ(plan.candidates.size(), 4u);
  const auto refused = std::count_if(plan.candidates.begin(), plan.candidates.end(),
                                     [](const PlanCandidate& c) { return !c.rejection.empty(); });
  EXPECT_EQ(refused, 1);
  const auto pp4 = std::find_if(
      plan.candidates.begin(), plan.candidates.end(),
      [](const PlanCandidate& c) { return c.label.find("PP 4, ZeRO 1") != std::string::npos; });
  ASSERT_NE(pp4, plan.candidates.end());
  // 64 GPUs / (TP 2 x PP 4) = DP 8.
  EXPECT_EQ(pp4->scenario["parallelism"]["attention_data_parallel"], 8);
  EXPECT_EQ(pp4->scenario["parallelism"]["pipeline_parallel"]["size"], 4);
  const auto outcomes = run_plan(plan, 1);
  const auto rejected = std::find_if(outcomes.begin(), outcomes.end(), [](const PlanOutcome& o) {
    return o.rejection.find("DeepSpeed") != std::string::npos;
  });
  EXPECT_NE(rejected, outcomes.end());
}

TEST(ParallelSearch, ContextParallelIsSearchedForTrainingAndRefusedForDecode) {
  // Decode's context parallel shards the KV cache: not modelled, so refused with the reason.
  EXPECT_NE(stack_rejection({1, 1, 1, 2}, {false, 8, 8, 1, true}).find("context parallel"),
            std::string::npos);
  EXPECT_EQ(stack_rejection({1, 1, 1, 2}, {false, 8, 8, 1, false}), "");  // prefill
  const PlanSpec plan = parse_plan(R"({"schema_version": 1, "name": "cp",
      "base": {"model": "mixtral-8x7b", "workload": {"kind": "training", "tokens_per_gpu": 8192,
                                                     "context_tokens": 8192},
               "profile": "roofline"},
      "search": {"clusters": [{"system": "hgx-h100", "nodes": [8], "usd_per_gpu_hour": 2.99,
                               "price_date": "2026-11-01"}],
                 "expert_parallel": [8], "attention_tensor_parallel": [2],
                 "context_parallel": [1, 2]}})",
                                   "cp.json");
  ASSERT_EQ(plan.candidates.size(), 2u);
  const auto cp2 = std::find_if(plan.candidates.begin(), plan.candidates.end(),
                                [](const PlanCandidate& c) { return c.label.ends_with(", CP 2"); });
  ASSERT_NE(cp2, plan.candidates.end());
  // 64 GPUs / (TP 2 x CP 2 x PP 1) = DP 16.
  EXPECT_EQ(cp2->scenario["parallelism"]["attention_data_parallel"], 16);
  EXPECT_EQ(cp2->scenario["parallelism"]["context_parallel"], 2);
}

}  // namespace
}  // namespace moesim::sim
