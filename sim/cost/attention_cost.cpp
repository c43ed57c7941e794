#include "sim/cost/attention_cost.hpp"

#include <algorithm>

namespace moesim::sim {

double attention_core_flops(const AttentionShape& a, bool decode) {
  if (a.kind == AttentionKind::Gqa) return 4.0 * a.head_dim;  // QK^T (2d) and PV (2d)
  if (decode)
    // Absorbed: scores over the latent plus rope key (512 + 64 = 576 wide for DeepSeek-V3), values
    // over the 512-wide latent; W_UK and W_UV move into the per-token projections (FlashMLA).
    return 2.0 * (a.kv_lora_rank + a.qk_rope_head_dim) + 2.0 * a.kv_lora_rank;
  // Prefill decompresses keys and values: scores over 128 + 64 = 192, values over 128.
  return 2.0 * (a.qk_nope_head_dim + a.qk_rope_head_dim) + 2.0 * a.v_head_dim;
}

double kv_bytes_per_rank(const ModelSpec& m, int tp) {
  const double bytes = static_cast<double>(m.kv_cache_bytes_per_token_per_layer);
  if (m.attention.kind == AttentionKind::Mla || tp <= 1) return bytes;
  const int kv_heads = m.attention.kv_heads;
  if (kv_heads <= 0) return bytes / tp;  // a custom model without a head count
  // Ranks beyond the KV head count hold a copy of a head (vLLM and SGLang replicate them).
  const int heads_per_rank = (kv_heads + tp - 1) / tp;
  return bytes * heads_per_rank / kv_heads;
}

double kv_element_bytes(const ModelSpec& m) {
  const AttentionShape& a = m.attention;
  const double width = a.kind == AttentionKind::Mla ? a.kv_lora_rank + a.qk_rope_head_dim
                                                    : 2.0 * a.kv_heads * a.head_dim;
  if (width <= 0 || m.kv_cache_bytes_per_token_per_layer <= 0) return 2;
  return static_cast<double>(m.kv_cache_bytes_per_token_per_layer) / width;
}

double attention_params_per_rank(const ModelSpec& m, int tp) {
  const double total = static_cast<double>(m.attention_params_per_layer);
  if (tp <= 1) return total;
  const AttentionShape& a = m.attention;
  const double hidden = static_cast<double>(m.hidden);
  double whole = 0;     // replicated on every rank
  double kv_split = 0;  // split by KV head, replicated past the head count
  if (a.kind == AttentionKind::Mla)
    whole = hidden * (a.q_lora_rank + a.kv_lora_rank + a.qk_rope_head_dim);
  else if (a.kv_heads > 0)
    kv_split = 2.0 * hidden * a.kv_heads * a.head_dim;
  whole = std::min(whole, total);
  kv_split = std::min(kv_split, total - whole);
  const double kv_share =
      a.kv_heads > 0 ? static_cast<double>((a.kv_heads + tp - 1) / tp) / a.kv_heads : 1.0 / tp;
  return whole + kv_split * kv_share + (total - whole - kv_split) / tp;
}

double elementwise_bytes_per_token(const ModelSpec& m, int tp, bool moe_layer, bool mlp) {
  constexpr double kActivationBytes = 2;  // bf16
  const double hidden = static_cast<double>(m.hidden);
  const double norms = 2 * 4 * hidden * kActivationBytes;
  const AttentionShape& a = m.attention;
  const double heads_per_rank = std::max(1.0, static_cast<double>(a.heads) / tp);
  const double rotary_width =
      a.kind == AttentionKind::Mla ? a.qk_rope_head_dim : static_cast<double>(a.head_dim);
  const double rotary = 2 * heads_per_rank * rotary_width * kActivationBytes;
  const double ffn = !mlp        ? 0.0
                     : moe_layer ? static_cast<double>(m.shared_experts * m.shared_expert_ffn)
                                 : static_cast<double>(m.dense_ffn);
  const double activation = (m.gated_ffn ? 3 : 2) * ffn / tp * kActivationBytes;
  const double quantisation = m.weight_bytes <= 1 ? 2 * (kActivationBytes + 1) * hidden : 0.0;
  return norms + rotary + activation + quantisation;
}

DenseWork dense_work(const ModelSpec& m, const DenseShape& s) {
  const double tp = s.tensor_parallel;
  const double mlp_params = !s.mlp ? 0.0
                            : s.moe_layer
                                ? static_cast<double>(m.shared_experts) * m.shared_expert_params()
                                : static_cast<double>(m.dense_mlp_params());
  // Each rank runs all the group's tokens on its share of every weight matrix.
  const double attention = attention_params_per_rank(m, s.tensor_parallel);
  const double weights = attention + mlp_params / tp;
  // Causal prefill attends on average over half the context; decode over all of it. Heads split.
  const double attended = s.decode ? s.context : s.context / 2;
  const double heads_per_rank = std::max(1.0, m.attention.heads / tp);
  DenseWork work;
  if (m.attention.heads > 0) {
    const double own =
        heads_per_rank * s.tokens * attended * attention_core_flops(m.attention, s.decode);
    const double prompts = heads_per_rank * s.prefill_tokens * s.prefill_context / 2 *
                           attention_core_flops(m.attention, false);
    work.attention_flops = own + prompts;
    work.causal_attention_flops = s.decode ? prompts : own + prompts;
    work.causal_prompt = s.decode ? s.prefill_context : s.context;
  }
  work.flops = 2 * weights * (s.tokens + s.prefill_tokens) + work.attention_flops;
  work.weight_bytes = attention * m.attention_bytes_per_weight() + mlp_params / tp * m.weight_bytes;
  work.elementwise_bytes = (s.tokens + s.prefill_tokens) *
                           elementwise_bytes_per_token(m, s.tensor_parallel, s.moe_layer, s.mlp);
  // A sequence's cache is read once however many of its query tokens attend to it (FlashMLA and
  // FlashInfer run a sequence's drafts together).
  if (s.decode)
    work.kv_bytes =
        s.tokens / s.queries_per_sequence * s.context * kv_bytes_per_rank(m, s.tensor_parallel);
  return work;
}

}  // namespace moesim::sim
