#include "sim/cost/memory_model.hpp"

#include <gtest/gtest.h>

namespace moesim::sim {
namespace {

// A toy model and an 8-GPU node, small enough to add up by hand.
//   embeddings 2 x 100 x 10 = 2000; attention 500 per block, 4 blocks; 2 of them MoE
//   routed expert 3 x 10 x 20 = 600; shared expert 3 x 10 x 30 = 900; router 10 x 8 = 80
//   dense MLP 3 x 10 x 40 = 1200 in the 2 dense blocks; KV 6 bytes per token per block
ScenarioSpec memory_toy_scenario(WorkloadKind kind) {
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
  const MemoryBreakdown memory = memory_per_gpu(memory_toy_scenario(WorkloadKind::Prefill));
  EXPECT_DOUBLE_EQ(memory.weights, (kDenseParams + kExpertParams) * 2);  // 21520
  EXPECT_DOUBLE_EQ(memory.optimizer, 0);
  // 100 tokens x 6 bytes x 4 blocks = 2400.
  EXPECT_DOUBLE_EQ(memory.kv_cache, 2400);
  // 2 x 100 tokens x max(hidden 10, expert_ffn 20 x top-2 = 40) x 4 bytes = 32000.
  EXPECT_DOUBLE_EQ(memory.activations, 32000);
  EXPECT_DOUBLE_EQ(memory.total(), 21520 + 2400 + 32000);
}

TEST(MemoryModel, DecodeKeepsTheWholeContextOfEverySequence) {
  const MemoryBreakdown memory = memory_per_gpu(memory_toy_scenario(WorkloadKind::Decode));
  // 100 sequences x 50 context tokens x 6 bytes x 4 blocks = 120000.
  EXPECT_DOUBLE_EQ(memory.kv_cache, 120000);
  EXPECT_DOUBLE_EQ(memory.activations, 32000);  // as prefill: 100 tokens in flight
  EXPECT_DOUBLE_EQ(memory.weights, 21520);
}

TEST(MemoryModel, TrainingShardsAdamStateOverTheReplicasOfEachWeight) {
  const MemoryBreakdown memory = memory_per_gpu(memory_toy_scenario(WorkloadKind::Training));
  // ZeRO stage 1 (the default). bf16 gradients on every replica: 10760 x 2 = 21520. fp32 master +
  // 2 moments, 12 bytes a parameter, sharded: dense over 8 DP replicas (8360 / 8 = 1045), experts
  // over 8 GPUs / EP 4 = 2 replicas (2400 / 2 = 1200): 12 x 2245 = 26940.
  EXPECT_DOUBLE_EQ(memory.gradients, 21520);
  EXPECT_DOUBLE_EQ(memory.optimizer, 26940);
  EXPECT_DOUBLE_EQ(memory.weights, 21520);  // not sharded below ZeRO 3
  // 34 bytes per token per hidden unit per block: 34 x 100 x 10 x 4 = 136000.
  EXPECT_DOUBLE_EQ(memory.activations, 136000);
  EXPECT_DOUBLE_EQ(memory.kv_cache, 0);
}

TEST(MemoryModel, TensorParallelSplitsEverythingButTheExperts) {
  ScenarioSpec s = memory_toy_scenario(WorkloadKind::Prefill);
  s.parallelism.attention_tensor_parallel = 2;
  const MemoryBreakdown memory = memory_per_gpu(s);
  // Dense 8360 / 2 = 4180, experts still 2400: (4180 + 2400) x 2 = 13160.
  EXPECT_DOUBLE_EQ(memory.weights, 13160);
  // KV heads split too: 2400 / 2 = 1200.
  EXPECT_DOUBLE_EQ(memory.kv_cache, 1200);
}

TEST(MemoryModel, MlaLatentCacheIsNotSplitByTensorParallel) {
  ScenarioSpec s = memory_toy_scenario(WorkloadKind::Prefill);
  s.model.attention.kind = AttentionKind::Mla;
  s.parallelism.attention_tensor_parallel = 2;
  // Every TP rank holds the whole latent of its tokens: 2400 bytes, as at TP 1, not 1200.
  EXPECT_DOUBLE_EQ(memory_per_gpu(s).kv_cache, 2400);
}

TEST(MemoryModel, LargerExpertParallelHoldsFewerExperts) {
  ScenarioSpec s = memory_toy_scenario(WorkloadKind::Prefill);
  s.parallelism.expert_parallel = 8;
  // 8 / 8 = 1 slot per GPU: experts 1 x 2 x 600 = 1200; (8360 + 1200) x 2 = 19120.
  EXPECT_DOUBLE_EQ(memory_per_gpu(s).weights, 19120);
}

TEST(MemoryModel, RedundantExpertsAddSlots) {
  ScenarioSpec s = memory_toy_scenario(WorkloadKind::Prefill);
  s.placement.redundant_experts = 4;
  // (8 + 4) / 4 = 3 slots per GPU: experts 3 x 2 x 600 = 3600; (8360 + 3600) x 2 = 23920.
  EXPECT_DOUBLE_EQ(memory_per_gpu(s).weights, 23920);
}

TEST(MemoryModel, OneByteWeightsHalveTheWeightBytes) {
  ScenarioSpec s = memory_toy_scenario(WorkloadKind::Prefill);
  s.model.weight_bytes = 1;
  // FP8: one byte per parameter, 10760.
  EXPECT_DOUBLE_EQ(memory_per_gpu(s).weights, 10760);
}

TEST(MemoryModel, TrainingOnMoreGpusShardsExpertStateFurther) {
  ScenarioSpec s = memory_toy_scenario(WorkloadKind::Training);
  s.cluster.nodes = 2;  // 16 GPUs / EP 4 = 4 replicas of each expert
  s.parallelism.attention_data_parallel = 16;
  // 12 x (8360 / 16 + 2400 / 4) = 12 x (522.5 + 600) = 13470; gradients unsharded, 21520.
  EXPECT_DOUBLE_EQ(memory_per_gpu(s).optimizer, 13470);
  EXPECT_DOUBLE_EQ(memory_per_gpu(s).gradients, 21520);
}

TEST(MemoryModel, ZeroStagesShardStateGradientsThenWeights) {
  ScenarioSpec s = memory_toy_scenario(WorkloadKind::Training);
  // The sharded share of one GPU: 8360 / 8 + 2400 / 2 = 2245 parameters; all of them: 10760.
  s.parallelism.data.zero_stage = 0;
  MemoryBreakdown m = memory_per_gpu(s);
  EXPECT_DOUBLE_EQ(m.optimizer, 12 * 10760.0);  // 129120: nothing sharded
  EXPECT_DOUBLE_EQ(m.gradients, 2 * 10760.0);
  s.parallelism.data.zero_stage = 2;
  m = memory_per_gpu(s);
  EXPECT_DOUBLE_EQ(m.optimizer, 12 * 2245.0);  // 26940
  EXPECT_DOUBLE_EQ(m.gradients, 2 * 2245.0);   // 4490
  EXPECT_DOUBLE_EQ(m.weights, 2 * 10760.0);
  s.parallelism.data.zero_stage = 3;
  m = memory_per_gpu(s);
  EXPECT_DOUBLE_EQ(m.weights, 2 * 2245.0);  // 4490: weights sharded too
}

TEST(MemoryModel, MoeTensorParallelSplitsEachExpert) {
  ScenarioSpec s = memory_toy_scenario(WorkloadKind::Prefill);
  s.parallelism.moe_tensor_parallel = 2;  // MoE TP 2 x EP 4 = 8 GPUs
  // Experts 2 slots x 2 blocks x 600 / 2 = 1200; (8360 + 1200) x 2 = 19120.
  EXPECT_DOUBLE_EQ(memory_per_gpu(s).weights, 19120);
}

TEST(MemoryModel, PipelineStagesHoldTheirOwnBlocksAndTheFullestIsReported) {
  ScenarioSpec s = memory_toy_scenario(WorkloadKind::Training);
  s.parallelism.pipeline.size = 2;  // 8 GPUs = DP 4 x PP 2; EP 4 fills a stage
  s.parallelism.attention_data_parallel = 4;
  // Stage 0: blocks 0-1 (dense) and the embedding table 100 x 10 = 1000:
  //   1000 + 2 x 500 + 2 x 1200 = 4400 dense parameters, no experts.
  // Stage 1: blocks 2-3 (MoE) and the LM head 1000: 1000 + 2 x 500 + 2 x (900 + 80) = 3960
  //   dense, 2 slots x 2 blocks x 600 = 2400 expert parameters.
  EXPECT_DOUBLE_EQ(stage_params(s, 0).dense, 4400);
  EXPECT_DOUBLE_EQ(stage_params(s, 0).experts, 0);
  EXPECT_DOUBLE_EQ(stage_params(s, 1).dense, 3960);
  EXPECT_DOUBLE_EQ(stage_params(s, 1).experts, 2400);
  // One micro-batch: each stage holds one, 34 x 100 x 10 x 2 blocks = 68000 bytes.
  // Stage 1, ZeRO 1: weights and gradients (3960 + 2400) x 2 = 12720 each; optimizer
  // 12 x (3960 / 4 DP + 2400 / 1 expert replica (4 GPUs / EP 4)) = 12 x 3390 = 40680.
  // In all 134120, against stage 0's 8800 + 8800 + 12 x 1100 + 68000 = 98800: stage 1 is reported.
  const MemoryBreakdown m = memory_per_gpu(s);
  EXPECT_DOUBLE_EQ(m.optimizer, 40680);
  EXPECT_DOUBLE_EQ(m.total(), 134120);
  // 1F1B with 4 micro-batches of 25 tokens: stage 0 holds min(2 stages - 0, 4) = 2 of them,
  // 34 x 25 x 10 x 2 blocks x 2 = 34000; stage 1 holds 1: 17000.
  s.parallelism.pipeline.micro_batches = 4;
  EXPECT_DOUBLE_EQ(memory_per_gpu(s).activations, 17000);  // stage 1 is still the fullest
}

}  // namespace
}  // namespace moesim::sim
