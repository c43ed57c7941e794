#pragma once
// A ModelSpec from a HuggingFace config.json, across the naming variants of the MoE families.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "sim/spec/model_spec.hpp"

namespace moesim::sim {

// Throws ConfigError naming `source` and each missing or malformed field.
ModelSpec import_hf_config(const nlohmann::json& config, const std::string& source);
ModelSpec import_hf_config_file(const std::string& path);

// Attention weights of one block, shared with the presets so both count the same way.
std::int64_t gqa_attention_params(std::int64_t hidden, int heads, int kv_heads, int head_dim);
struct MlaShape {
  std::int64_t q_lora_rank = 0;  // 0 = queries projected directly
  std::int64_t kv_lora_rank = 0;
  std::int64_t qk_nope_head_dim = 0;
  std::int64_t qk_rope_head_dim = 0;
  std::int64_t v_head_dim = 0;
};
std::int64_t mla_attention_params(std::int64_t hidden, int heads, const MlaShape& shape);
AttentionShape mla_attention_shape(int heads, const MlaShape& shape);

nlohmann::json model_spec_to_json(const ModelSpec& model);

}  // namespace moesim::sim
