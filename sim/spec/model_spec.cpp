#include "sim/spec/model_spec.hpp"

namespace moesim::sim {

std::int64_t ModelSpec::total_params() const {
  const std::int64_t dense_layers = layers - moe_layers;
  const std::int64_t per_moe_layer =
      experts * expert_params() + shared_experts * shared_expert_params() + router_params();
  return embedding_params() + layers * attention_params_per_layer +
         dense_layers * dense_mlp_params() + moe_layers * per_moe_layer;
}

std::int64_t ModelSpec::active_params() const {
  const std::int64_t dense_layers = layers - moe_layers;
  const std::int64_t per_moe_layer =
      top_k * expert_params() + shared_experts * shared_expert_params() + router_params();
  return embedding_params() + layers * attention_params_per_layer +
         dense_layers * dense_mlp_params() + moe_layers * per_moe_layer;
}

}  // namespace moesim::sim
