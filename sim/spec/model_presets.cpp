#include "sim/spec/model_presets.hpp"

#include "sim/spec/hf_import.hpp"

namespace moesim::sim {
namespace {

struct GqaShape {
  int heads;
  int kv_heads;
  int head_dim;
};

ModelSpec base(const char* name, const char* source, int layers, int moe_layers,
               std::int64_t hidden, std::int64_t vocab, int experts, int top_k,
               std::int64_t expert_ffn) {
  ModelSpec m;
  m.name = name;
  m.source = source;
  m.layers = layers;
  m.moe_layers = moe_layers;
  m.hidden = hidden;
  m.vocab = vocab;
  m.experts = experts;
  m.top_k = top_k;
  m.expert_ffn = expert_ffn;
  m.dense_ffn = expert_ffn;
  return m;
}

void set_gqa(ModelSpec& m, GqaShape s) {
  m.attention = {
      .kind = AttentionKind::Gqa, .heads = s.heads, .kv_heads = s.kv_heads, .head_dim = s.head_dim};
  m.attention_params_per_layer = gqa_attention_params(m.hidden, s.heads, s.kv_heads, s.head_dim);
  m.kv_cache_bytes_per_token_per_layer = 2LL * s.kv_heads * s.head_dim * 2;  // K and V in bf16
}

// DeepSeek-V3 and Kimi-K2 share the MLA shape; only the head count differs.
void set_deepseek_mla(ModelSpec& m, int heads) {
  const MlaShape shape{1536, 512, 128, 64, 128};
  m.attention = mla_attention_shape(heads, shape);
  m.attention_params_per_layer = mla_attention_params(m.hidden, heads, shape);
  m.kv_cache_bytes_per_token_per_layer = (512 + 64) * 2;  // compressed latent + rope key
  m.gating = Gating::Sigmoid;
  m.shared_experts = 1;
  m.shared_expert_ffn = m.expert_ffn;
  m.dense_ffn = 18432;
  m.dispatch_bytes = 1;        // FP8 dispatch, BF16 combine as DeepSeek serves it
  m.weight_scale_block = 128;  // its FP8 checkpoint's quantization_config.weight_block_size
}

std::vector<ModelSpec> make_presets() {
  std::vector<ModelSpec> models;

  auto dsv3 = base("deepseek-v3", "huggingface.co/deepseek-ai/DeepSeek-V3 config.json", 61, 58,
                   7168, 129280, 256, 8, 2048);
  set_deepseek_mla(dsv3, 128);
  dsv3.expert_groups = 8;
  dsv3.topk_groups = 4;
  dsv3.default_batch_load_sigma = kDeepSeekV3BatchLoadSigma;
  models.push_back(dsv3);

  auto kimi = base("kimi-k2", "huggingface.co/moonshotai/Kimi-K2-Instruct config.json", 61, 60,
                   7168, 163840, 384, 8, 2048);
  set_deepseek_mla(kimi, 64);
  models.push_back(kimi);

  auto mixtral = base("mixtral-8x7b", "huggingface.co/mistralai/Mixtral-8x7B-v0.1 config.json", 32,
                      32, 4096, 32000, 8, 2, 14336);
  set_gqa(mixtral, {32, 8, 128});
  models.push_back(mixtral);

  auto mixtral22 = base("mixtral-8x22b", "huggingface.co/mistralai/Mixtral-8x22B-v0.1 config.json",
                        56, 56, 6144, 32768, 8, 2, 16384);
  set_gqa(mixtral22, {48, 8, 128});
  models.push_back(mixtral22);

  auto qwen30 = base("qwen3-30b-a3b", "huggingface.co/Qwen/Qwen3-30B-A3B config.json", 48, 48, 2048,
                     151936, 128, 8, 768);
  set_gqa(qwen30, {32, 4, 128});
  qwen30.weight_scale_block = 128;  // Qwen3's FP8 checkpoints: weight_block_size [128, 128]
  qwen30.dense_ffn = 6144;
  models.push_back(qwen30);

  auto qwen235 = base("qwen3-235b-a22b", "huggingface.co/Qwen/Qwen3-235B-A22B config.json", 94, 94,
                      4096, 151936, 128, 8, 1536);
  set_gqa(qwen235, {64, 4, 128});
  qwen235.dense_ffn = 12288;
  qwen235.weight_scale_block = 128;
  models.push_back(qwen235);

  auto gptoss = base("gpt-oss-120b", "huggingface.co/openai/gpt-oss-120b config.json", 36, 36, 2880,
                     201088, 128, 4, 2880);
  set_gqa(gptoss, {64, 8, 64});
  models.push_back(gptoss);

  auto maverick =
      base("llama-4-maverick",
           "huggingface.co/meta-llama/Llama-4-Maverick-17B-128E config.json (text_config)", 48, 24,
           5120, 202048, 128, 1, 8192);
  set_gqa(maverick, {40, 8, 128});
  maverick.dense_ffn = 16384;
  maverick.shared_experts = 1;
  maverick.shared_expert_ffn = 8192;
  models.push_back(maverick);

  auto olmoe = base("olmoe-1b-7b", "huggingface.co/allenai/OLMoE-1B-7B-0924 config.json", 16, 16,
                    2048, 50304, 64, 8, 1024);
  set_gqa(olmoe, {16, 16, 128});
  models.push_back(olmoe);

  auto dbrx = base("dbrx", "huggingface.co/databricks/dbrx-base config.json (ffn_config)", 40, 40,
                   6144, 100352, 16, 4, 10752);
  set_gqa(dbrx, {48, 8, 128});
  models.push_back(dbrx);

  // T5-style encoder-decoder: 15 + 15 blocks, every one sparse; ReLU experts (2 matrices).
  auto switch_c =
      base("switch-c-2048",
           "Fedus et al. 2021 (arXiv:2101.03961) Table 9; huggingface.co/google/switch-c-2048", 30,
           30, 2048, 32128, 2048, 1, 6144);
  set_gqa(switch_c, {32, 32, 64});
  switch_c.attention_params_per_layer =
      switch_c.attention_params_per_layer * 45 / 30;  // cross-attn
  switch_c.gated_ffn = false;
  switch_c.tied_embeddings = true;
  switch_c.default_capacity_factor = 1.0;
  models.push_back(switch_c);

  // GShard 600B: 36 blocks, experts in every other one, top-2 with capacity 2N/E (factor 1.0).
  auto gshard = base("gshard-600b", "Lepikhin et al. 2020 (arXiv:2006.16668) Table 1, 600B row", 36,
                     18, 1024, 32000, 2048, 2, 8192);
  set_gqa(gshard, {16, 16, 64});
  gshard.gated_ffn = false;
  gshard.tied_embeddings = true;
  gshard.default_capacity_factor = 1.0;
  models.push_back(gshard);

  return models;
}

}  // namespace

const std::vector<ModelSpec>& model_presets() {
  static const std::vector<ModelSpec> kModels = make_presets();
  return kModels;
}

const ModelSpec* find_model(std::string_view name) {
  for (const auto& model : model_presets())
    if (model.name == name) return &model;
  return nullptr;
}

}  // namespace moesim::sim
