// Context parallel's ring attention (docs/parallelism.md): a sequence is split over CP TP groups,
// two chunks a rank (Megatron's load balancing of causal attention, so every ring step holds a
// CP-th of the rank's attention). Each rank computes on the KV chunk it holds while it sends that
// chunk on and receives the next (Megatron's cp_comm_type "p2p"); only what a step's send/recv
// takes beyond the step's attention is exposed. Members of LayerCostModel.
#include <algorithm>

#include "sim/cost/attention_cost.hpp"
#include "sim/cost/layer_cost_model.hpp"

namespace moesim::sim {
namespace {

// Keys and values of one token on one TP rank, bf16 activations. MLA trains non-absorbed, so its
// ring carries every head's decompressed key (nope + rope) and value, not the cached latent.
double ring_kv_bytes_per_token(const ModelSpec& m, int tp) {
  const AttentionShape& a = m.attention;
  constexpr double kBf16 = 2;
  if (a.kind == AttentionKind::Mla) {
    const double heads = std::max(1.0, static_cast<double>(a.heads) / tp);
    return heads * (a.qk_nope_head_dim + a.qk_rope_head_dim + a.v_head_dim) * kBf16;
  }
  if (a.kv_heads > 0 && a.head_dim > 0) {
    const int heads_per_rank = (a.kv_heads + tp - 1) / tp;  // a copy each beyond kv_heads ranks
    return 2.0 * heads_per_rank * a.head_dim * kBf16;
  }
  return kv_bytes_per_rank(m, tp);  // a custom model: its cache's bytes
}

}  // namespace

CollectivePrice LayerCostModel::cp_kv_exchange(double attention_tokens, bool backward) const {
  const ModelSpec& m = s_.model;
  const int cp = s_.parallelism.context_parallel;
  if (cp <= 1 || attention_tokens <= 0 || m.attention.heads == 0) return {0, ""};
  const int tp = s_.parallelism.attention_tensor_parallel;
  // The backward ring sends the KV chunk and its gradient, and computes twice the attention.
  const double passes = backward ? 2 : 1;
  const double bytes = passes * attention_tokens * ring_kv_bytes_per_token(m, tp);
  const GroupLayout ring = group_layout(s_, GroupKind::Context);
  // Neighbours in the ring: one hop over NVLink, or over the NICs where the ring leaves a domain.
  CollectivePrice send = group_collectives_.price(CollectiveKind::SendRecv, bytes,
                                                  {2, ring.crosses_domains() ? 2 : 1});
  // The attention core of the rank's tokens over half the sequence on average (causal), in bf16
  // at the fused kernel's share of the GEMM rate for the chunks it runs (block_time's rate).
  const double heads = std::max(1.0, static_cast<double>(m.attention.heads) / tp);
  const double context = static_cast<double>(s_.workload.context_tokens);
  const double flops =
      passes * attention_tokens * context / 2 * heads * attention_core_flops(m.attention, false);
  const double bf16_rate = compute_rate() * (m.weight_bytes <= 1 ? bf16_over_fp8() : 1.0) *
                           causal_attention_share(context);
  const double step_attention = flops / bf16_rate / cp;
  // CP - 1 chunks arrive, each under the attention on the chunk before.
  send.seconds = (cp - 1) * std::max(0.0, send.seconds - step_attention);
  return send;
}

}  // namespace moesim::sim
