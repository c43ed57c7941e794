#pragma once
// What the simulator needs to know about an MoE model, and the parameter counts derived from it.
#include <cstdint>
#include <string>

namespace moesim::sim {

enum class Gating { Softmax, Sigmoid };
enum class AttentionKind { Gqa, Mla };

// The attention block's shape, from which sim/cost/attention_cost derives its FLOPs and KV bytes.
struct AttentionShape {
  AttentionKind kind = AttentionKind::Gqa;
  int heads = 0;         // query heads
  int kv_heads = 0;      // GQA key/value heads (MHA: = heads); MLA keeps one shared latent instead
  int head_dim = 0;      // GQA head width
  int kv_lora_rank = 0;  // MLA latent width (DeepSeek-V3: 512)
  int q_lora_rank = 0;   // MLA query down-projection width (1536); 0 = queries projected directly
  int qk_nope_head_dim = 0;  // MLA query/key width per head without rope (128)
  int qk_rope_head_dim = 0;  // MLA rope key width, shared by every head (64)
  int v_head_dim = 0;        // MLA value width per head (128)
};

struct ModelSpec {
  std::string name;
  std::string source;     // where the figures come from (a config.json or paper)
  std::string hf_config;  // the config.json a scenario's {"hf_config": path} named (resolved)

  int layers = 0;      // transformer blocks counted once (encoder + decoder for T5-style)
  int moe_layers = 0;  // blocks whose MLP is a mixture of experts
  std::int64_t hidden = 0;
  std::int64_t vocab = 0;
  bool tied_embeddings = false;

  int experts = 0;  // routed experts per MoE layer
  int top_k = 0;
  int shared_experts = 0;              // always-on experts per MoE layer
  std::int64_t expert_ffn = 0;         // intermediate width of one routed expert
  std::int64_t shared_expert_ffn = 0;  // intermediate width of one shared expert
  std::int64_t dense_ffn = 0;          // intermediate width of the MLP in non-MoE blocks
  bool gated_ffn = true;               // SwiGLU (3 matrices) vs ReLU/GELU (2 matrices)
  Gating gating = Gating::Softmax;
  int expert_groups = 1;  // DeepSeek's n_group; 1 = no group limit
  int topk_groups = 1;    // DeepSeek's topk_group

  std::int64_t attention_params_per_layer = 0;
  std::int64_t kv_cache_bytes_per_token_per_layer = 0;  // at the KV dtype
  AttentionShape attention;

  double weight_bytes = 2;  // bf16 weights
  // Bytes a weight of the attention projections when they are kept in another dtype than the rest
  // (TensorRT-LLM's NVFP4 DeepSeek-R1 runs attention in bf16); 0 = weight_bytes.
  double attention_weight_bytes = 0;
  // FP8 weights' scales: 0 one a tensor (or channel); 128 one a 128x128 block of weights and one a
  // 1x128 slice of activations, DeepSeek-V3's recipe, which Qwen3's FP8 checkpoints share.
  int weight_scale_block = 0;
  double dispatch_bytes = 2;           // bytes per activation element sent to experts (1 = FP8)
  double combine_bytes = 2;            // bytes per element returned (BF16 combine)
  double default_capacity_factor = 0;  // 0 = dropless; GShard trained with capacity
  // workload.routing.batch_load_sigma when the scenario gives none: 0 unless a published
  // measurement of the model's batch-to-batch load variation supports one (model_presets.cpp).
  double default_batch_load_sigma = 0;

  std::int64_t matrices_per_ffn() const { return gated_ffn ? 3 : 2; }
  std::int64_t expert_params() const { return matrices_per_ffn() * hidden * expert_ffn; }
  std::int64_t shared_expert_params() const {
    return matrices_per_ffn() * hidden * shared_expert_ffn;
  }
  std::int64_t dense_mlp_params() const { return matrices_per_ffn() * hidden * dense_ffn; }
  std::int64_t router_params() const { return hidden * experts; }
  double attention_bytes_per_weight() const {
    return attention_weight_bytes > 0 ? attention_weight_bytes : weight_bytes;
  }
  std::int64_t embedding_params() const { return vocab * hidden * (tied_embeddings ? 1 : 2); }
  // Layer norms and biases are left out: under 0.1% for every preset.
  std::int64_t total_params() const;
  std::int64_t active_params() const;
};

}  // namespace moesim::sim
