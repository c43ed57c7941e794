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
  // and weights) or as DP 8 (8 tokens on each rank, all heads): Mixtral's GPU does the same FLOPs
  // and reads an eighth of the weights under TP.
  auto work = [](const ModelSpec& m, double tokens, int tp) {
    return dense_work(m, {.tokens = tokens,
                          .tensor_parallel = tp,
                          .decode = true,
                          .context = 4096,
                          .moe_layer = true});
  };
  const ModelSpec& mixtral = *find_model("mixtral-8x7b");
  EXPECT_DOUBLE_EQ(work(mixtral, 64, 8).flops, work(mixtral, 8, 1).flops);
  EXPECT_DOUBLE_EQ(work(mixtral, 64, 8).weight_bytes * 8, work(mixtral, 8, 1).weight_bytes);
  // DeepSeek-V3 keeps its MLA down-projections (15,138,816 weights) whole on every TP rank, so
  // those run all 64 tokens: 2 x 15,138,816 x (64 - 8) = 1,695,547,392 FLOPs more under TP; the
  // split weights (171,966,464 of attention + 44,040,192 of shared expert) and the core (1,024
  // head-tokens x 4,096 x 2,176) are the same. Bytes (bf16): TP (15,138,816 + 216,006,656 / 8) x 2
  // = 84,279,296 a rank, DP 231,145,472 x 2 = 462,290,944.
  const ModelSpec& dsv3 = deepseek_v3();
  EXPECT_DOUBLE_EQ(work(dsv3, 64, 8).flops - work(dsv3, 8, 1).flops, 1695547392.0);
  EXPECT_DOUBLE_EQ(work(dsv3, 64, 8).attention_flops, work(dsv3, 8, 1).attention_flops);
  EXPECT_DOUBLE_EQ(work(dsv3, 64, 8).weight_bytes, 84279296.0);
  EXPECT_DOUBLE_EQ(work(dsv3, 8, 1).weight_bytes, 462290944.0);
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
