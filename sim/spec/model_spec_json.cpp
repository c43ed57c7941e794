// The import-hf --json view of a model: the scenario's model fields plus its parameter counts.
#include <string>

#include "sim/spec/choices.hpp"
#include "sim/spec/hf_import.hpp"

namespace moesim::sim {

using Json = nlohmann::json;

Json model_spec_to_json(const ModelSpec& m) {
  return Json{{"name", m.name},
              {"layers", m.layers},
              {"moe_layers", m.moe_layers},
              {"hidden", m.hidden},
              {"vocab", m.vocab},
              {"tied_embeddings", m.tied_embeddings},  // total_params counts one table when true
              {"experts", m.experts},
              {"top_k", m.top_k},
              {"shared_experts", m.shared_experts},
              {"expert_ffn", m.expert_ffn},
              {"shared_expert_ffn", m.shared_expert_ffn},
              {"dense_ffn", m.dense_ffn},
              {"gated_ffn", m.gated_ffn},
              {"gating", m.gating == Gating::Sigmoid ? "sigmoid" : "softmax"},
              {"expert_groups", m.expert_groups},
              {"topk_groups", m.topk_groups},
              {"attention_params_per_layer", m.attention_params_per_layer},
              {"kv_cache_bytes_per_token_per_layer", m.kv_cache_bytes_per_token_per_layer},
              {"attention", std::string(choice_name(m.attention.kind))},
              {"attention_heads", m.attention.heads},
              {"kv_heads", m.attention.kv_heads},
              {"head_dim", m.attention.head_dim},
              {"kv_lora_rank", m.attention.kv_lora_rank},
              {"q_lora_rank", m.attention.q_lora_rank},
              {"qk_nope_head_dim", m.attention.qk_nope_head_dim},
              {"qk_rope_head_dim", m.attention.qk_rope_head_dim},
              {"v_head_dim", m.attention.v_head_dim},
              {"weight_bytes", m.weight_bytes},
              {"weight_scale_block", m.weight_scale_block},
              {"total_params", m.total_params()},
              {"active_params", m.active_params()}};
}

}  // namespace moesim::sim
