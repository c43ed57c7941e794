#include "sim/cost/memory_model.hpp"

#include <gtest/gtest.h>

namespace moesim::sim {
namespace {

// A toy model and an 8-GPU node, small enough to add up by hand.
//   embeddings 2 x 100 x 10 = 2000; attention 500 per block, 4 blocks; 2 of them MoE
//   routed expert 3 x 10 x 20 = 600; shared expert 3 x 10 x 30 = 900; router 10 x 8 = 80
//   dense MLP 3 x 10 x 40 = 1200 in the 2 dense blocks; KV 6 bytes per token per block
ScenarioSpec toy_scenario(WorkloadKind kind) {
  ScenarioSpec s;
  s.model.name = "toy";
  s.model.layers = 4;
  s.model.moe_layers = 2;
  s.model.hidden = 10;
  s.model.vocab = 100;
  s.model.experts = 8;
  s.model.top_k = 2;
  s.model.shared_experts = 1;
  s.model.expert_ffn = 20;
  s.model.shared_expert_ffn = 30;
  s.model.dense_ffn = 40;
  s.model.attention_params_per_layer = 500;
  s.model.kv_cache_bytes_per_token_per_layer = 6;
  s.model.weight_bytes = 2;
  s.cluster.nodes = 1;
  s.cluster.system.gpus_per_node = 8;
  s.parallelism.expert_parallel = 4;
  s.parallelism.attention_data_parallel = 8;
  s.parallelism.attention_tensor_parallel = 1;
  s.workload.kind = kind;
  s.workload.tokens_per_gpu = 100;
  s.workload.context_tokens = 50;
  return s;
}

// Parameters on each GPU at EP 4, TP 1:
//   dense (replicated): 2000 + 4 x 500 + 2 x 1200 + 2 x (900 + 80) = 8360
//   experts: 8 / 4 = 2 slots per GPU x 2 MoE blocks x 600 = 2400
//   in all 10760; at 2 bytes, 21520 bytes of weights.
constexpr double kDenseParams = 8360;
constexpr double kExpertParams = 2400;

TEST(MemoryModel, PrefillHoldsWeightsKvAndActivations) {
  const MemoryBreakdown memory = memory_per_gpu(toy_scenario(WorkloadKind::Prefill));
  EXPECT_DOUBLE_EQ(memory.weights, (kDenseParams + kExpertParams) * 2);  // 21520
  EXPECT_DOUBLE_EQ(memory.optimizer, 0);
  // 100 tokens x 6 bytes x 4 blocks = 2400.
  EXPECT_DOUBLE_EQ(memory.kv_cache, 2400);
  // 2 x 100 tokens x max(hidden 10, expert_ffn 20 x top-2 = 40) x 4 bytes = 32000.
  EXPECT_DOUBLE_EQ(memory.activations, 32000);
  EXPECT_DOUBLE_EQ(memory.total(), 21520 + 2400 + 32000);
}

TEST(MemoryModel, DecodeKeepsTheWholeContextOfEverySequence) {
  const MemoryBreakdown memory = memory_per_gpu(toy_scenario(WorkloadKind::Decode));
  // 100 sequences x 50 context tokens x 6 bytes x 4 blocks = 120000.
  EXPECT_DOUBLE_EQ(memory.kv_cache, 120000);
  EXPECT_DOUBLE_EQ(memory.activations, 32000);  // as prefill: 100 tokens in flight
  EXPECT_DOUBLE_EQ(memory.weights, 21520);
}

TEST(MemoryModel, TrainingShardsAdamStateOverTheReplicasOfEachWeight) {
  const MemoryBreakdown memory = memory_per_gpu(toy_scenario(WorkloadKind::Training));
  // bf16 gradients: 10760 x 2 = 21520. fp32 master + 2 moments, 12 bytes a parameter, sharded:
  // dense over 8 DP replicas (8360 / 8 = 1045), experts over 8 GPUs / EP 4 = 2 replicas
  // (2400 / 2 = 1200): 12 x 2245 = 26940. In all 48460.
  EXPECT_DOUBLE_EQ(memory.optimizer, 21520 + 26940);
  // 34 bytes per token per hidden unit per block: 34 x 100 x 10 x 4 = 136000.
  EXPECT_DOUBLE_EQ(memory.activations, 136000);
  EXPECT_DOUBLE_EQ(memory.kv_cache, 0);
}

TEST(MemoryModel, TensorParallelSplitsEverythingButTheExperts) {
  ScenarioSpec s = toy_scenario(WorkloadKind::Prefill);
  s.parallelism.attention_tensor_parallel = 2;
  const MemoryBreakdown memory = memory_per_gpu(s);
  // Dense 8360 / 2 = 4180, experts still 2400: (4180 + 2400) x 2 = 13160.
  EXPECT_DOUBLE_EQ(memory.weights, 13160);
  // KV heads split too: 2400 / 2 = 1200.
  EXPECT_DOUBLE_EQ(memory.kv_cache, 1200);
}

TEST(MemoryModel, MlaLatentCacheIsNotSplitByTensorParallel) {
  ScenarioSpec s = toy_scenario(WorkloadKind::Prefill);
  s.model.attention.kind = AttentionKind::Mla;
  s.parallelism.attention_tensor_parallel = 2;
  // Every TP rank holds the whole latent of its tokens: 2400 bytes, as at TP 1, not 1200.
  EXPECT_DOUBLE_EQ(memory_per_gpu(s).kv_cache, 2400);
}

TEST(MemoryModel, LargerExpertParallelHoldsFewerExperts) {
  ScenarioSpec s = toy_scenario(WorkloadKind::Prefill);
  s.parallelism.expert_parallel = 8;
  // 8 / 8 = 1 slot per GPU: experts 1 x 2 x 600 = 1200; (8360 + 1200) x 2 = 19120.
  EXPECT_DOUBLE_EQ(memory_per_gpu(s).weights, 19120);
}

TEST(MemoryModel, RedundantExpertsAddSlots) {
  ScenarioSpec s = toy_scenario(WorkloadKind::Prefill);
  s.placement.redundant_experts = 4;
  // (8 + 4) / 4 = 3 slots per GPU: experts 3 x 2 x 600 = 3600; (8360 + 3600) x 2 = 23920.
  EXPECT_DOUBLE_EQ(memory_per_gpu(s).weights, 23920);
}

TEST(MemoryModel, OneByteWeightsHalveTheWeightBytes) {
  ScenarioSpec s = toy_scenario(WorkloadKind::Prefill);
  s.model.weight_bytes = 1;
  // FP8: one byte per parameter, 10760.
  EXPECT_DOUBLE_EQ(memory_per_gpu(s).weights, 10760);
}

TEST(MemoryModel, TrainingOnMoreGpusShardsExpertStateFurther) {
  ScenarioSpec s = toy_scenario(WorkloadKind::Training);
  s.cluster.nodes = 2;  // 16 GPUs / EP 4 = 4 replicas of each expert
  s.parallelism.attention_data_parallel = 16;
  // 21520 + 12 x (8360 / 16 + 2400 / 4) = 21520 + 12 x (522.5 + 600) = 21520 + 13470 = 34990.
  EXPECT_DOUBLE_EQ(memory_per_gpu(s).optimizer, 34990);
}

}  // namespace
}  // namespace moesim::sim
