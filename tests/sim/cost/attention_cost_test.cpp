#include "sim/cost/attention_cost.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "sim/cost/touched_experts.hpp"
#include "sim/spec/model_presets.hpp"

namespace moesim::sim {
namespace {

const ModelSpec& deepseek_v3() { return *find_model("deepseek-v3"); }

TEST(AttentionCost, AbsorbedMlaDecodeWorksOnTheLatentNotTheHeadWidth) {
  // DeepSeek-V3: kv_lora_rank 512, rope 64. Absorbed decode (FlashMLA): scores over the 576-wide
  // latent + rope key (2 x 576 FLOPs per position and head), values over the 512-wide latent
  // (2 x 512): 2176. The old model used 4 x head_dim 192 = 768.
  EXPECT_DOUBLE_EQ(attention_core_flops(deepseek_v3().attention, true), 2176);
  // Prefill decompresses: scores over nope 128 + rope 64 = 192, values over v_head_dim 128:
  // 2 x 192 + 2 x 128 = 640.
  EXPECT_DOUBLE_EQ(attention_core_flops(deepseek_v3().attention, false), 640);
  // GQA (Mixtral, head_dim 128): QK^T and PV, 2 x 128 each = 512.
  EXPECT_DOUBLE_EQ(attention_core_flops(find_model("mixtral-8x7b")->attention, true), 512);
}

TEST(AttentionCost, MlaLatentCacheIsReplicatedUnderTensorParallel) {
  // The latent (512) + rope key (64) in bf16: 1152 bytes per token per layer on every TP rank.
  EXPECT_DOUBLE_EQ(kv_bytes_per_rank(deepseek_v3(), 1), 1152);
  EXPECT_DOUBLE_EQ(kv_bytes_per_rank(deepseek_v3(), 8), 1152);
}

TEST(AttentionCost, GqaSplitsKvHeadsAndReplicatesThemPastTheHeadCount) {
  // Mixtral: 8 KV heads x 128 x (K and V) x 2 bytes = 4096 bytes per token per layer.
  const ModelSpec& mixtral = *find_model("mixtral-8x7b");
  EXPECT_DOUBLE_EQ(kv_bytes_per_rank(mixtral, 1), 4096);
  // TP 4: 2 heads a rank, 1024 bytes. TP 16: 8 heads cannot split 16 ways; each rank keeps one
  // head (512 bytes), not 4096 / 16 = 256.
  EXPECT_DOUBLE_EQ(kv_bytes_per_rank(mixtral, 4), 1024);
  EXPECT_DOUBLE_EQ(kv_bytes_per_rank(mixtral, 16), 512);
}

TEST(AttentionCost, TensorParallelIsCountedOnce) {
  // The same 64 decode sequences as TP 8 (one group of 64 tokens, each rank an eighth of the heads
  // and weights) or as DP 8 (8 tokens on each rank, all heads): a GPU does the same FLOPs and
  // reads an eighth of the weights under TP.
  for (const char* name : {"deepseek-v3", "mixtral-8x7b"}) {
    const ModelSpec& m = *find_model(name);
    const DenseWork tp = dense_work(
        m,
        {.tokens = 64, .tensor_parallel = 8, .decode = true, .context = 4096, .moe_layer = true});
    const DenseWork dp = dense_work(
        m, {.tokens = 8, .tensor_parallel = 1, .decode = true, .context = 4096, .moe_layer = true});
    EXPECT_DOUBLE_EQ(tp.flops, dp.flops) << name;
    EXPECT_DOUBLE_EQ(tp.weight_bytes * 8, dp.weight_bytes) << name;
  }
  // KV read per GPU. Mixtral splits its 8 KV heads: 64 x 4096 x 512 bytes under TP 8 equals
  // 8 x 4096 x 4096 under DP 8 (134,217,728). DeepSeek's latent is read whole by every TP rank:
  // 64 x 4096 x 1152 = 301,989,888 under TP 8 against 8 x 4096 x 1152 = 37,748,736 under DP 8,
  // which is why MLA serves decode with attention DP.
  auto kv = [](const char* name, double tokens, int tp) {
    return dense_work(*find_model(name), {.tokens = tokens,
                                          .tensor_parallel = tp,
                                          .decode = true,
                                          .context = 4096,
                                          .moe_layer = true})
        .kv_bytes;
  };
  EXPECT_DOUBLE_EQ(kv("mixtral-8x7b", 64, 8), 134217728);
  EXPECT_DOUBLE_EQ(kv("mixtral-8x7b", 8, 1), 134217728);
  EXPECT_DOUBLE_EQ(kv("deepseek-v3", 64, 8), 301989888);
  EXPECT_DOUBLE_EQ(kv("deepseek-v3", 8, 1), 37748736);
}

TEST(TouchedExperts, FourTokensWithTopEightTouchAtMostThirtyTwoOf256) {
  // Uniform routing: each expert expects 4 x 8 / 256 = 0.125 copies; a token reaches it with
  // probability 8 / 256 = 1/32, so P(touched) = 1 - (31/32)^4 = 0.11938...; 256 experts x that
  // = 30.56 experts touched, at most 32 (4 tokens x 8 distinct experts).
  const std::vector<double> loads(256, 4.0 * 8 / 256);
  const double touched = expected_touched_experts(loads, 4);
  EXPECT_NEAR(touched, 256 * (1 - std::pow(31.0 / 32, 4)), 1e-9);
  EXPECT_LE(touched, 32);
  // A prefill of 4096 tokens touches them all: 1 - (31/32)^4096 is 1 in a double.
  EXPECT_DOUBLE_EQ(expected_touched_experts(std::vector<double>(256, 4096.0 * 8 / 256), 4096), 256);
}

TEST(TouchedExperts, ExpectedCostChargesWeightsOnlyWhenTouched) {
  // An expert whose weights cost 10 us whatever its tokens, with 0.125 expected copies of 4 tokens:
  // P = 1 - (1 - 0.125/4)^4 = 0.1193...; expected cost 0.1193 x 10 us, not 10 us.
  const double p = 1 - std::pow(1 - 0.125 / 4, 4);
  EXPECT_NEAR(expected_expert_cost(0.125, 4, [](double) { return 10.0; }), p * 10, 1e-12);
  // Tokens when touched are load / P: 0.125 / 0.1193 = 1.047 copies.
  EXPECT_NEAR(expected_expert_cost(0.125, 4, [](double t) { return t; }), 0.125, 1e-12);
  EXPECT_DOUBLE_EQ(expected_expert_cost(0, 4, [](double) { return 10.0; }), 0);
}

}  // namespace
}  // namespace moesim::sim
