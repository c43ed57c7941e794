#include "sim/spec/hf_import.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>

#include "base/config_error.hpp"
#include "sim/spec/model_presets.hpp"

namespace moesim::sim {
namespace {

std::string fixture(const std::string& name) {
  return std::string(MOESIM_SOURCE_DIR) + "/tests/data/hf/" + name + ".json";
}

TEST(HfImport, DeepSeekV3CountsFiftyEightMoeLayersAndPublishedTotals) {
  // first_k_dense_replace = 3, moe_layer_freq = 1: blocks 3..60 are MoE = 58 of 61.
  const auto m = import_hf_config_file(fixture("deepseek-v3"));
  EXPECT_EQ(m.layers, 61);
  EXPECT_EQ(m.moe_layers, 58);
  EXPECT_EQ(m.experts, 256);
  EXPECT_EQ(m.top_k, 8);
  EXPECT_EQ(m.shared_experts, 1);
  EXPECT_EQ(m.expert_ffn, 2048);
  EXPECT_EQ(m.gating, Gating::Sigmoid);
  // Published 671B total / 37B active (see ModelPresets.DeepSeekV3MatchesPublishedTotals).
  EXPECT_NEAR(m.total_params() / 1e9, 671, 671 * 0.03);
  EXPECT_NEAR(m.active_params() / 1e9, 37, 37 * 0.03);
  // model_type deepseek_v3 routes as the preset does: its batch-to-batch spread, not 0.
  EXPECT_DOUBLE_EQ(m.default_batch_load_sigma, kDeepSeekV3BatchLoadSigma);
  EXPECT_DOUBLE_EQ(import_hf_config_file(fixture("mixtral-8x7b")).default_batch_load_sigma, 0);
}

TEST(HfImport, Qwen3ThirtyBUsesMoeIntermediateSize) {
  // 128 x 3 x 2048 x 768 = 604M per layer x 48 = 29.0B; attention 18.9M x 48 = 0.91B; embeddings
  // 2 x 151936 x 2048 = 0.62B: 30.5B total. Active: 8 experts = 1.81B + 1.54B = 3.3B.
  const auto m = import_hf_config_file(fixture("qwen3-30b-a3b"));
  EXPECT_EQ(m.moe_layers, 48);
  EXPECT_EQ(m.expert_ffn, 768);
  EXPECT_NEAR(m.total_params() / 1e9, 30.5, 30.5 * 0.03);
  EXPECT_NEAR(m.active_params() / 1e9, 3.3, 3.3 * 0.03);
}

TEST(HfImport, MixtralUsesIntermediateSizeForExperts) {
  // 46.7B total / 12.9B active, derived in ModelPresets.MixtralMatchesPublishedTotals.
  const auto m = import_hf_config_file(fixture("mixtral-8x7b"));
  EXPECT_EQ(m.experts, 8);
  EXPECT_EQ(m.expert_ffn, 14336);
  EXPECT_NEAR(m.total_params() / 1e9, 46.7, 46.7 * 0.03);
  EXPECT_NEAR(m.active_params() / 1e9, 12.9, 12.9 * 0.03);
}

TEST(HfImport, LlamaFourMaverickInterleavesMoeLayersUnderTextConfig) {
  // interleave_moe_layer_step = 2: blocks 1, 3, ..., 47 are MoE = 24 of 48.
  const auto m = import_hf_config_file(fixture("llama-4-maverick"));
  EXPECT_EQ(m.layers, 48);
  EXPECT_EQ(m.moe_layers, 24);
  EXPECT_EQ(m.shared_experts, 1);
  EXPECT_EQ(m.dense_ffn, 16384);
  // Published 400B total / 17B active.
  EXPECT_NEAR(m.total_params() / 1e9, 400, 400 * 0.03);
  EXPECT_NEAR(m.active_params() / 1e9, 17, 17 * 0.03);
}

TEST(HfImport, DbrxReadsFfnConfig) {
  const auto m = import_hf_config_file(fixture("dbrx"));
  EXPECT_EQ(m.experts, 16);
  EXPECT_EQ(m.top_k, 4);
  EXPECT_EQ(m.expert_ffn, 10752);
  EXPECT_EQ(m.layers, 40);
  // Published 132B total / 36B active.
  EXPECT_NEAR(m.total_params() / 1e9, 132, 132 * 0.03);
  EXPECT_NEAR(m.active_params() / 1e9, 36, 36 * 0.03);
}

TEST(HfImport, SwitchCCountsEncoderAndDecoderBlocks) {
  // 15 + 15 blocks, all sparse; 2048 ReLU experts of 2 x 2048 x 6144 = 25.2M: 1.55T,
  // published 1.571T.
  const auto m = import_hf_config_file(fixture("switch-c-2048"));
  EXPECT_EQ(m.layers, 30);
  EXPECT_EQ(m.moe_layers, 30);
  EXPECT_EQ(m.top_k, 1);
  EXPECT_FALSE(m.gated_ffn);
  EXPECT_NEAR(m.total_params() / 1e9, 1571, 1571 * 0.03);
}

TEST(HfImport, EveryFixtureMatchesItsPreset) {
  // The presets and the importer count parameters the same way: each fixture lands on its preset.
  for (const char* name : {"deepseek-v3", "kimi-k2", "mixtral-8x7b", "mixtral-8x22b",
                           "qwen3-30b-a3b", "qwen3-235b-a22b", "gpt-oss-120b", "llama-4-maverick",
                           "olmoe-1b-7b", "dbrx", "switch-c-2048"}) {
    const auto imported = import_hf_config_file(fixture(name));
    const auto* preset = find_model(name);
    ASSERT_NE(preset, nullptr) << name;
    EXPECT_EQ(imported.total_params(), preset->total_params()) << name;
    EXPECT_EQ(imported.active_params(), preset->active_params()) << name;
    EXPECT_EQ(imported.moe_layers, preset->moe_layers) << name;
  }
}

TEST(HfImport, MissingExpertCountNamesTheAlternatives) {
  const auto config = nlohmann::json::parse(R"({"hidden_size": 64, "vocab_size": 10,
      "num_hidden_layers": 2, "num_attention_heads": 4, "num_experts_per_tok": 2, "intermediate_size": 8})");
  try {
    import_hf_config(config, "c.json");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_STREQ(
        error.what(),
        "c.json: /n_routed_experts: missing required field (expected an integer in [1, 8192] "
        "in n_routed_experts or num_local_experts or num_experts)");
  }
}

TEST(HfImport, WrongTypeIsAnErrorNotACrash) {
  const auto config = nlohmann::json::parse(R"({"hidden_size": "big", "vocab_size": 10,
      "num_hidden_layers": 2, "num_attention_heads": 4, "num_experts": 4, "num_experts_per_tok": 2,
      "intermediate_size": 8, "first_k_dense_replace": "x", "tie_word_embeddings": 3})");
  EXPECT_THROW(import_hf_config(config, "c.json"), ConfigError);
}

// The ConfigError message of importing `config`, or "" when it imports.
std::string import_error(const std::string& config) {
  try {
    import_hf_config(nlohmann::json::parse(config), "c.json");
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

constexpr const char* kDbrxStart = R"({"model_type": "dbrx", "d_model": 6144, "n_layers": 40,
    "vocab_size": 100352, "attn_config": {"kv_n_heads": 8},
    "ffn_config": {"ffn_hidden_size": 10752, "moe_num_experts": 16, "moe_top_k": 4}, )";

TEST(HfImport, DbrxHeadsPastTheLimitAreRefusedNotADivisionByZero) {
  // 2^32 heads used to narrow to int 0, then d_model / 0 raised SIGFPE. kMaxAttentionHeads = 1024.
  EXPECT_EQ(import_error(std::string(kDbrxStart) + R"("n_heads": 4294967296})"),
            "c.json: /n_heads: expected an integer in [1, 1024], got 4294967296");
}

TEST(HfImport, LayerCountPastInt64IsRefusedNotZero) {
  // 2^63 does not fit int64 (nlohmann keeps it unsigned); it used to become layers = 0 and divide.
  const std::string config = R"({"hidden_size": 64, "vocab_size": 10, "num_attention_heads": 4,
      "num_experts": 4, "num_experts_per_tok": 2, "intermediate_size": 8,
      "num_hidden_layers": 9223372036854775808})";
  EXPECT_EQ(import_error(config),
            "c.json: /num_hidden_layers: expected an integer in [1, 1024], got "
            "9223372036854775808");
}

TEST(HfImport, SwitchEncoderPlusDecoderBlocksAreBoundedTogether) {
  // Each count is at the limit 1024; together 1024 + 1024 = 2048 > kMaxLayers.
  const std::string config = R"({"d_model": 64, "vocab_size": 10, "num_heads": 4, "d_kv": 16,
      "num_experts": 4, "d_ff": 8, "num_layers": 1024, "num_decoder_layers": 1024})";
  EXPECT_EQ(import_error(config),
            "c.json: /num_decoder_layers: expected encoder + decoder blocks <= 1024 "
            "(docs/limits.md), got 2048");
}

std::string qwen_config(const std::string& layers, const std::string& mlp_only) {
  return R"({"hidden_size": 64, "vocab_size": 10, "num_attention_heads": 4, "num_experts": 4,
      "num_experts_per_tok": 2, "moe_intermediate_size": 8, "decoder_sparse_step": 1,
      "num_hidden_layers": )" +
         layers + R"(, "mlp_only_layers": )" + mlp_only + "}";
}

TEST(HfImport, QwenHugeLayerCountWithLongMlpOnlyListIsRefusedAtOnce) {
  // 2^31 blocks x a 2,000-entry list used to scan for minutes; the block count is refused first.
  std::string list = "[";
  for (int i = 0; i < 2000; ++i) list += fmt::format("{}{}", i ? "," : "", i);
  list += "]";
  EXPECT_EQ(import_error(qwen_config("2147483648", list)),
            "c.json: /num_hidden_layers: expected an integer in [1, 1024], got 2147483648");
  // With 48 blocks a list of 2,000 indices cannot name distinct blocks.
  EXPECT_EQ(import_error(qwen_config("48", list)),
            "c.json: /mlp_only_layers: expected at most 48 layer indices (one per block), got "
            "2000");
}

TEST(HfImport, QwenMlpOnlyLayersNameRealBlocks) {
  // 4 blocks, decoder_sparse_step 1: blocks 0 and 3 dense leave 2 MoE blocks.
  const auto model = import_hf_config(nlohmann::json::parse(qwen_config("4", "[0, 3]")), "c.json");
  EXPECT_EQ(model.moe_layers, 2);
  EXPECT_EQ(import_error(qwen_config("4", "[1, 4]")),
            "c.json: /mlp_only_layers/1: expected a layer index in [0, 3], got 4");
  // Every block dense: nothing for the simulator to place.
  EXPECT_EQ(import_error(qwen_config("2", "[0, 1]")),
            "c.json: /num_hidden_layers: none of the 2 blocks holds experts (check the MoE layer "
            "step fields)");
}

TEST(HfImport, ExpertCountPastTheLimitIsRefusedNotWrapped) {
  // 2^32 + 8 used to wrap to 8 experts in a static_cast<int>.
  const std::string config = R"({"hidden_size": 64, "vocab_size": 10, "num_attention_heads": 4,
      "num_hidden_layers": 2, "num_experts": 4294967304, "num_experts_per_tok": 2,
      "intermediate_size": 8})";
  EXPECT_EQ(import_error(config),
            "c.json: /num_experts: expected an integer in [1, 8192], got 4294967304");
}

TEST(HfImport, AnFp8CheckpointHasOneByteBlockScaledWeights) {
  // DeepSeek-V3's release: quantization_config {quant_method fp8, weight_block_size [128, 128]}.
  nlohmann::json config = nlohmann::json::parse(std::ifstream(fixture("deepseek-v3")));
  EXPECT_DOUBLE_EQ(import_hf_config(config, "c.json").weight_bytes, 2);  // no quantization_config
  config["quantization_config"] = {{"quant_method", "fp8"}, {"weight_block_size", {128, 128}}};
  const ModelSpec block = import_hf_config(config, "c.json");
  EXPECT_DOUBLE_EQ(block.weight_bytes, 1);
  EXPECT_EQ(block.weight_scale_block, 128);
  config["quantization_config"].erase("weight_block_size");  // one scale a tensor
  EXPECT_EQ(import_hf_config(config, "c.json").weight_scale_block, 0);
  // Session 12: any other method was priced as BF16, any block size as 128: now refused.
  config["quantization_config"]["quant_method"] = "awq";
  EXPECT_EQ(import_error(config.dump()),
            "c.json: /quantization_config/quant_method: expected \"fp8\" (the quantisation moesim "
            "prices), got \"awq\"; remove quantization_config to price the checkpoint at its "
            "torch_dtype, or set model.weight_bytes in a scenario");
  config["quantization_config"] = {{"quant_method", "fp8"}, {"weight_block_size", {64, 64}}};
  EXPECT_EQ(import_error(config.dump()),
            "c.json: /quantization_config/weight_block_size: expected [128, 128] (DeepSeek-V3's "
            "recipe, the block size moesim prices), got [64,64]");
}

}  // namespace
}  // namespace moesim::sim
