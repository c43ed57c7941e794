// Context parallel (issue 22): the scenario field and its checks, where the ring's ranks sit, the
// ring attention's KV send/recv priced against the attention it overlaps, and the activations a
// rank holds for its share of each sequence.
#include <gtest/gtest.h>

#include <string>

#include "base/config_error.hpp"
#include "sim/cost/memory_model.hpp"
#include "sim/run/simulate.hpp"
#include "sim/spec/parallel_groups.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {
namespace {

// Mixtral-8x7B (32 heads, 8 KV heads of 128) training on 64 H100s (8 nodes of 8), 4 pipeline
// stages of 8 micro-batches, sequences of 4,096 tokens, roofline and analytic network.
std::string mixtral_text(int tp, int cp, int dp, long tokens_per_gpu, const std::string& kind) {
  return R"({"schema_version": 1, "model": "mixtral-8x7b", "cluster": "h100x64",
      "parallelism": {"attention_tensor_parallel": )" +
         std::to_string(tp) + R"(, "context_parallel": )" + std::to_string(cp) +
         R"(, "attention_data_parallel": )" + std::to_string(dp) + R"(, "expert_parallel": 8,
        "pipeline_parallel": {"size": 4, "micro_batches": 8}},
      "workload": {"kind": ")" +
         kind + R"(", "tokens_per_gpu": )" + std::to_string(tokens_per_gpu) +
         R"(, "context_tokens": 4096},
      "network": {"model": "analytic"}, "profile": "roofline"})";
}

ScenarioSpec mixtral(int tp, int cp, int dp, long tokens_per_gpu) {
  return parse_scenario(mixtral_text(tp, cp, dp, tokens_per_gpu, "training"), "cp.json");
}

std::string cp_error_of(const std::string& text) {
  try {
    parse_scenario(text, "cp.json");
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(ContextParallel, TheRingSitsBetweenTpAndDpAndShardsTheGradients) {
  // TP 8 x CP 2 x DP 1 x PP 4: a TP group fills a node, so the ring's two ranks are 0 and 8, in
  // two nodes; CP ranks hold the same weights, so gradients reduce over CP x DP = 2.
  const ScenarioSpec s = mixtral(8, 2, 1, 16384);
  EXPECT_EQ(group_members(s, GroupKind::Context), (std::vector<int>{0, 8}));
  EXPECT_EQ(group_layout(s, GroupKind::Context).domains, 2);
  EXPECT_EQ(group_members(s, GroupKind::Data), (std::vector<int>{0, 8}));
  EXPECT_EQ(s.parallelism.weight_replicas(), 2);
  // A stage is TP x CP x DP = 16 consecutive GPUs.
  EXPECT_EQ(pipeline_stage_of(s, 15), 0);
  EXPECT_EQ(pipeline_stage_of(s, 16), 1);
  EXPECT_EQ(pipeline_stage_of(s, 63), 3);
}

TEST(ContextParallel, ARingAcrossNodesExposesWhatTheAttentionDoesNotHide) {
  const Report r = simulate(mixtral(8, 2, 1, 16384));
  // A micro-batch: 16,384 / 8 = 2,048 tokens per TP group, half of one 4,096-token sequence.
  // Each TP rank sends its KV head (8 KV heads / TP 8 = 1) for them: 2,048 x 2 (K, V) x 128 x
  // 2 bytes = 1,048,576 bytes to rank 8 in the next node, over the NIC at 50 GB/s x 0.8 + 2 us:
  // 26.2144 + 2 = 28.2144 us. Under it runs one ring step's attention: 2,048 queries over half
  // the sequence (causal, 2,048) on 32 / 8 = 4 heads at 4 x 128 FLOPs = 8,589,934,592 FLOPs at
  // 989 TFLOP/s x 0.6 = 14.4758 us, half of it per step of the 2-rank ring: 7.2379 us.
  // Exposed: (2 - 1) x (28.2144 - 7.2379) = 20.9765 us.
  const double attention = 2048.0 * 2048 * 4 * 512 / (989e12 * 0.6);
  const double forward = 1048576 / 40e9 + 2e-6 - attention / 2;
  const LayerResult& moe = r.layers.front();
  EXPECT_NEAR(moe.phases.cp_kv_exchange, forward, 1e-12);
  EXPECT_NEAR(forward, 20.9765e-6, 1e-10);
  // Backward: the KV and its gradient (2,097,152 bytes: 54.4288 us) under twice the attention
  // (14.4758 us a step): 39.9530 us.
  const double backward = 2 * 1048576 / 40e9 + 2e-6 - attention;
  EXPECT_NEAR(moe.backward.cp_kv_exchange, backward, 1e-12);
  EXPECT_NEAR(backward, 39.9530e-6, 1e-10);
  // It is part of the block's dense phase, beside the TP all-reduces.
  EXPECT_GT(moe.phases.dense, moe.phases.tp_all_reduce + moe.phases.cp_kv_exchange);
  // The report names what priced it; each CP group runs its own sequences' tokens.
  bool named = false;
  for (const auto& note : r.pricing_notes)
    named = named || note.starts_with("context-parallel KV send/recv (ring of 2 GPUs");
  EXPECT_TRUE(named);
  EXPECT_DOUBLE_EQ(r.tokens_per_step, 16384.0 * 2);
}

TEST(ContextParallel, ARingInsideANodeHidesUnderTheAttention) {
  // TP 2 x CP 2 x DP 4: ranks 0 and 2 share a node. 4 KV heads a rank: 2,048 x 2,048 bytes =
  // 4 MiB over NVLink at 450 GB/s x 0.8 + 1 us = 12.65 us, under a step of 2,048 x 2,048 x 16
  // heads x 512 FLOPs / 593.4 TFLOP/s / 2 = 28.95 us: nothing exposed.
  const Report r = simulate(mixtral(2, 2, 4, 16384));
  EXPECT_EQ(r.layers.front().phases.cp_kv_exchange, 0);
  EXPECT_EQ(r.layers.front().backward.cp_kv_exchange, 0);
}

TEST(ContextParallel, ActivationsShrinkByTheRingAndOptimizerStateShardsOverIt) {
  // The same 4,096-token sequences, 8 per step for each of the two replicas of the weights:
  // CP 2 gives each TP group half of each (2,048 tokens a micro-batch), DP 2 whole ones (4,096).
  const MemoryBreakdown ring = memory_per_gpu(mixtral(8, 2, 1, 16384));
  const MemoryBreakdown data = memory_per_gpu(mixtral(8, 1, 2, 32768));
  // Activations: 34 x tokens x 4096 x 8 blocks x 4 in flight / TP 8: half the tokens, half.
  EXPECT_DOUBLE_EQ(ring.activations, data.activations / 2);
  EXPECT_DOUBLE_EQ(ring.activations, 34.0 * 2048 * 4096 * 8 * 4 / 8);
  // Weights, gradients and ZeRO-1 optimizer state: two replicas either way.
  EXPECT_DOUBLE_EQ(ring.weights, data.weights);
  EXPECT_DOUBLE_EQ(ring.optimizer, data.optimizer);
}

TEST(ContextParallel, NamesEachMismatch) {
  // TP 8 x CP 2 x DP 2 x PP 4 = 128, not 64.
  EXPECT_NE(cp_error_of(mixtral_text(8, 2, 2, 16384, "training"))
                .find("/parallelism/attention_data_parallel: expected attention_data_parallel x "
                      "context_parallel x attention_tensor_parallel x pipeline_parallel.size = 64 "
                      "GPUs, got 2 x 2 x 8 x 4"),
            std::string::npos);
  // A micro-batch of 1,000 tokens is not whole shares of 4,096 / 2 = 2,048.
  EXPECT_NE(cp_error_of(mixtral_text(8, 2, 1, 8000, "training"))
                .find("/workload/tokens_per_gpu: expected each micro-batch to hold whole sequence "
                      "shares of context_tokens / context_parallel = 2048 tokens, got 8000 tokens "
                      "in 8 micro-batches"),
            std::string::npos);
  // Decode shards the KV cache instead; not modelled.
  std::string decode = mixtral_text(8, 2, 1, 16384, "decode");
  decode.replace(decode.find(R"("pipeline_parallel": {"size": 4, "micro_batches": 8})"),
                 std::string(R"("pipeline_parallel": {"size": 4, "micro_batches": 8})").size(),
                 R"("pipeline_parallel": {"size": 1})");
  EXPECT_NE(
      cp_error_of(decode).find("/parallelism/context_parallel: expected context parallel only "
                               "with workload.kind \"training\" or \"prefill\""),
      std::string::npos)
      << cp_error_of(decode);
}

}  // namespace
}  // namespace moesim::sim
