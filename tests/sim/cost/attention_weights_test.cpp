// Attention weights per rank under attention TP (replicated MLA down-projections, GQA's KV heads),
// attention kept in its own dtype, and prompt tokens prefilled inside a decode step.
#include <gtest/gtest.h>

#include "sim/cost/attention_cost.hpp"
#include "sim/spec/model_presets.hpp"

namespace moesim::sim {
namespace {

TEST(AttentionWeights, MlaDownProjectionsStayWholeOnEveryTensorParallelRank) {
  // DeepSeek-V3 attention: q_a 7168 x 1536 = 11,010,048; q_b 1536 x 128 x 192 = 37,748,736;
  // kv_a 7168 x 576 = 4,128,768; kv_b 512 x 128 x 256 = 16,777,216; o 128 x 128 x 7168 =
  // 117,440,512; 187,105,280 in all. q_a and kv_a (7168 x 2112 = 15,138,816) are replicated
  // (vLLM and SGLang ReplicatedLinear, TensorRT-LLM's DP Fuse_A GEMM); the other 171,966,464
  // split 8 ways: 15,138,816 + 21,495,808 = 36,634,624 a rank, not 187,105,280 / 8 = 23,388,160.
  const ModelSpec& dsv3 = *find_model("deepseek-v3");
  EXPECT_EQ(dsv3.attention_params_per_layer, 187105280);
  EXPECT_DOUBLE_EQ(attention_params_per_rank(dsv3, 1), 187105280);
  EXPECT_DOUBLE_EQ(attention_params_per_rank(dsv3, 8), 36634624);
}

TEST(AttentionWeights, GqaKeyValueProjectionsFollowTheirHeads) {
  // Mixtral: q and o 2 x 4096 x 4096 = 33,554,432; K and V 2 x 4096 x 8 x 128 = 8,388,608.
  // TP 4: two KV heads a rank, everything a quarter: 41,943,040 / 4 = 10,485,760. TP 16: each
  // rank keeps one of the 8 KV heads (1,048,576) and a 16th of q and o (2,097,152): 3,145,728.
  const ModelSpec& mixtral = *find_model("mixtral-8x7b");
  EXPECT_DOUBLE_EQ(attention_params_per_rank(mixtral, 4), 10485760);
  EXPECT_DOUBLE_EQ(attention_params_per_rank(mixtral, 16), 3145728);
}

TEST(AttentionWeights, AttentionKeepsItsOwnDtype) {
  // TensorRT-LLM's NVFP4 DeepSeek-R1: experts (and the shared expert) at 0.5 bytes, attention in
  // bf16. TP 8, MoE block: 36,634,624 x 2 + 44,040,192 / 8 x 0.5 = 73,269,248 + 2,752,512 =
  // 76,021,760 bytes read a step.
  ModelSpec m = *find_model("deepseek-v3");
  m.weight_bytes = 0.5;
  m.attention_weight_bytes = 2;
  const DenseWork work = dense_work(
      m, {.tokens = 1, .tensor_parallel = 8, .decode = true, .context = 2048, .moe_layer = true});
  EXPECT_DOUBLE_EQ(work.weight_bytes, 76021760);
  m.attention_weight_bytes = 0;  // unset: the attention follows weight_bytes
  EXPECT_DOUBLE_EQ(
      dense_work(
          m,
          {.tokens = 1, .tensor_parallel = 8, .decode = true, .context = 2048, .moe_layer = true})
          .weight_bytes,
      (36634624 + 5505024) * 0.5);
}

TEST(AttentionWeights, InFlightPromptTokensShareTheWeightReadAndAttendCausally) {
  // DeepSeek-V3 on one rank (TP 1), 128 decode tokens at 2,048 context, plus 64 prompt tokens of
  // 1,024-token prompts. The prompt tokens add 2 x (187,105,280 + 44,040,192) x 64 =
  // 29,586,620,416 projection FLOPs and 128 heads x 64 x 512 (half the prompt) x 640 (prefill MLA)
  // = 2,684,354,560 attention FLOPs: 32,270,974,976. Weights and the decode KV read are unchanged.
  const ModelSpec& m = *find_model("deepseek-v3");
  const DenseShape decode{
      .tokens = 128, .tensor_parallel = 1, .decode = true, .context = 2048, .moe_layer = true};
  DenseShape mixed = decode;
  mixed.prefill_tokens = 64;
  mixed.prefill_context = 1024;
  const DenseWork a = dense_work(m, decode);
  const DenseWork b = dense_work(m, mixed);
  EXPECT_DOUBLE_EQ(b.flops - a.flops, 32270974976.0);
  EXPECT_DOUBLE_EQ(b.attention_flops - a.attention_flops, 2684354560.0);
  // The decode core: 128 heads x 128 tokens x 2,048 positions x 2,176 = 73,014,444,032.
  EXPECT_DOUBLE_EQ(a.attention_flops, 73014444032.0);
  EXPECT_DOUBLE_EQ(b.weight_bytes, a.weight_bytes);
  EXPECT_DOUBLE_EQ(b.kv_bytes, a.kv_bytes);
}

TEST(AttentionWeights, KvElementBytesFollowTheCacheWidth) {
  // DeepSeek-V3's latent + rope key is 576 wide: 1,152 bytes is bf16, 576 bytes FP8. Mixtral's
  // K and V are 2 x 8 x 128 = 2,048 wide over 4,096 bytes: bf16.
  ModelSpec dsv3 = *find_model("deepseek-v3");
  EXPECT_DOUBLE_EQ(kv_element_bytes(dsv3), 2);
  dsv3.kv_cache_bytes_per_token_per_layer = 576;
  EXPECT_DOUBLE_EQ(kv_element_bytes(dsv3), 1);
  EXPECT_DOUBLE_EQ(kv_element_bytes(*find_model("mixtral-8x7b")), 2);
}

}  // namespace
}  // namespace moesim::sim
