// import-hf, structure-aware: a config.json of one of the families' layouts (DeepSeek, Qwen,
// Llama 4, DBRX, Switch, Mixtral) with fuzzed values in its known fields. A ConfigError is the only
// acceptable failure; an imported model must respect docs/limits.md (no wrap, no zero layers).
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/config_error.hpp"
#include "base/strict_json.hpp"
#include "sim/spec/hf_import.hpp"
#include "sim/spec/limits.hpp"
#include "tests/fuzz/fuzz_values.hpp"

namespace {

nlohmann::json fuzzed_config(FuzzedDataProvider& in) {
  using moesim::fuzz::object_of;
  nlohmann::json config = object_of(in, {"hidden_size",
                                         "d_model",
                                         "vocab_size",
                                         "num_hidden_layers",
                                         "n_layers",
                                         "num_layers",
                                         "num_attention_heads",
                                         "num_heads",
                                         "n_heads",
                                         "num_key_value_heads",
                                         "head_dim",
                                         "d_kv",
                                         "n_routed_experts",
                                         "num_local_experts",
                                         "num_experts",
                                         "num_experts_per_tok",
                                         "moe_intermediate_size",
                                         "intermediate_size",
                                         "d_ff",
                                         "n_shared_experts",
                                         "n_group",
                                         "topk_group",
                                         "first_k_dense_replace",
                                         "moe_layer_freq",
                                         "interleave_moe_layer_step",
                                         "decoder_sparse_step",
                                         "kv_lora_rank",
                                         "q_lora_rank",
                                         "qk_nope_head_dim",
                                         "qk_rope_head_dim",
                                         "v_head_dim",
                                         "shared_expert_intermediate_size",
                                         "intermediate_size_mlp"});
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0:  // DBRX nests its MoE and attention figures
      config["ffn_config"] = object_of(in, {"moe_num_experts", "moe_top_k", "ffn_hidden_size"});
      config["attn_config"] = object_of(in, {"kv_n_heads"});
      break;
    case 1:  // Switch Transformers: encoder and decoder blocks
      config["num_decoder_layers"] = moesim::fuzz::interesting_value(in);
      config["encoder_sparse_step"] = moesim::fuzz::interesting_value(in);
      break;
    case 2: {  // Qwen's list of dense blocks
      nlohmann::json list = nlohmann::json::array();
      const int entries = in.ConsumeIntegralInRange(0, 3000);
      for (int i = 0; i < entries && in.remaining_bytes() > 0; ++i)
        list.push_back(in.ConsumeIntegralInRange<std::int64_t>(-2, 5000));
      config["mlp_only_layers"] = list;
      config["decoder_sparse_step"] = 1;
      break;
    }
    default:  // Llama 4 keeps the language model under text_config
      if (in.ConsumeBool()) config = {{"text_config", config}};
  }
  return config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    nlohmann::json config;
    if (moesim::fuzz::looks_like_json(data, size)) {
      config = moesim::parse_strict_json(
          std::string_view(reinterpret_cast<const char*>(data), size), "config.json");
    } else {
      FuzzedDataProvider in(data, size);
      config = fuzzed_config(in);
    }
    const auto model = moesim::sim::import_hf_config(config, "config.json");
    using namespace moesim::sim;
    if (model.layers < 1 || model.layers > kMaxLayers || model.moe_layers < 1 ||
        model.moe_layers > model.layers || model.experts < 1 || model.experts > kMaxExperts ||
        model.top_k < 1 || model.top_k > model.experts || model.hidden < 1 ||
        model.attention.heads < 1)
      __builtin_trap();  // an imported model past the limits: a silent wrap got through
    (void)model.total_params();
  } catch (const moesim::ConfigError&) {
  }
  return 0;
}
