#include "sim/spec/hf_import.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "base/config_error.hpp"
#include "base/strict_json.hpp"
#include "sim/spec/choices.hpp"
#include "sim/spec/limits.hpp"
#include "sim/spec/model_dtypes.hpp"
#include "sim/spec/model_presets.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

// An integer in [min, max]; a value past int64 arrives unsigned and is out of range like any other.
bool in_range(const Json& value, std::int64_t min, std::int64_t max) {
  if (!value.is_number_integer()) return false;
  if (value.is_number_unsigned())
    return value.get<std::uint64_t>() <= static_cast<std::uint64_t>(max) &&
           static_cast<std::int64_t>(value.get<std::uint64_t>()) >= min;
  const auto number = value.get<std::int64_t>();
  return number >= min && number <= max;
}

// Looks a field up under several names; HF families disagree on what to call the same thing.
class ConfigFields {
 public:
  ConfigFields(const Json& root, std::string path, ProblemList& problems)
      : root_(root), path_(std::move(path)), problems_(problems) {}

  const Json* find(std::initializer_list<const char*> names) const {
    const auto it = root_.find(name_found(names));
    return it != root_.end() && !it->is_null() ? &*it : nullptr;
  }

  // The first of `names` present, in [min, max] (docs/limits.md) before any narrowing; else a
  // problem naming the field, and `min`, which keeps later divisions and loops safe.
  std::int64_t integer(std::initializer_list<const char*> names, std::int64_t min, std::int64_t max,
                       std::optional<std::int64_t> fallback = std::nullopt) const {
    const Json* value = find(names);
    const std::string first = *names.begin();
    const std::string expected = fmt::format("an integer in [{}, {}]", min, max);
    if (value == nullptr) {
      if (fallback) return *fallback;
      std::string listed;
      for (const char* name : names) listed += (listed.empty() ? "" : " or ") + std::string(name);
      problems_.add(path_ + "/" + first,
                    fmt::format("missing required field (expected {} in {})", expected, listed));
      return min;
    }
    if (!in_range(*value, min, max)) {
      problems_.add(path_ + "/" + name_found(names),
                    fmt::format("expected {}, got {}", expected, describe_json_value(*value)));
      return min;
    }
    return value->get<std::int64_t>();
  }

  // The first of `names` present (not null), else the first name: the path a problem names.
  const char* name_found(std::initializer_list<const char*> names) const {
    for (const char* name : names) {
      const auto it = root_.find(name);
      if (it != root_.end() && !it->is_null()) return name;
    }
    return *names.begin();
  }

  const Json& root() const { return root_; }
  const std::string& path() const { return path_; }

 private:
  const Json& root_;
  std::string path_;
  ProblemList& problems_;
};

// Qwen's `mlp_only_layers`: a flag per block, so the scan is linear in the blocks and the list.
// Each index must name one of the `layers` blocks; the list cannot be longer than the blocks.
std::vector<bool> mlp_only_layers(const ConfigFields& fields, int layers, ProblemList& problems) {
  std::vector<bool> dense(static_cast<std::size_t>(layers), false);
  const Json* list = fields.find({"mlp_only_layers"});
  if (list == nullptr) return dense;
  const std::string path = fields.path() + "/mlp_only_layers";
  if (!list->is_array()) {
    problems.add(path, "expected an array of layer indices, got " + describe_json_value(*list));
    return dense;
  }
  if (list->size() > static_cast<std::size_t>(layers)) {
    problems.add(path, fmt::format("expected at most {} layer indices (one per block), got {}",
                                   layers, list->size()));
    return dense;
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    const Json& index = (*list)[i];
    if (!in_range(index, 0, layers - 1)) {
      problems.add(fmt::format("{}/{}", path, i),
                   fmt::format("expected a layer index in [0, {}], got {}", layers - 1,
                               describe_json_value(index)));
      continue;
    }
    dense[static_cast<std::size_t>(index.get<std::int64_t>())] = true;
  }
  return dense;
}

// Which of `layers` blocks hold experts, by each family's own rule.
int count_moe_layers(const ConfigFields& fields, int layers, ProblemList& problems) {
  const Json& config = fields.root();
  int moe = 0;
  if (fields.find({"first_k_dense_replace"}) != nullptr) {  // DeepSeek-V3, Kimi-K2
    const auto first_dense = fields.integer({"first_k_dense_replace"}, 0, kMaxLayers);
    const auto freq = fields.integer({"moe_layer_freq"}, 1, kMaxLayers, 1);
    for (int i = 0; i < layers; ++i) moe += (i >= first_dense && i % freq == 0) ? 1 : 0;
    return moe;
  }
  if (fields.find({"interleave_moe_layer_step"}) != nullptr) {  // Llama 4
    const auto every = fields.integer({"interleave_moe_layer_step"}, 1, kMaxLayers);
    for (int i = 0; i < layers; ++i) moe += ((i + 1) % every == 0) ? 1 : 0;
    return moe;
  }
  if (config.contains("decoder_sparse_step") && !config.contains("encoder_sparse_step")) {  // Qwen
    const auto every = fields.integer({"decoder_sparse_step"}, 1, kMaxLayers, 1);
    const std::vector<bool> dense = mlp_only_layers(fields, layers, problems);
    for (int i = 0; i < layers; ++i) moe += (!dense[i] && (i + 1) % every == 0) ? 1 : 0;
    return moe;
  }
  return layers;
}

std::string string_or(const Json& config, const char* key, const char* fallback) {
  const auto it = config.find(key);
  return it != config.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// Where the language model's figures sit in a config.json and which family's layout they follow.
struct ConfigLayout {
  const Json& config;  // Llama 4 keeps the language model under text_config
  std::string base;    // JSON pointer of `config`
  bool nested = false;
  bool dbrx = false;      // DBRX nests its MoE and attention figures
  bool t5_style = false;  // Switch Transformers: encoder and decoder blocks
};

ConfigLayout config_layout(const Json& document) {
  const bool nested = document.contains("text_config") && document["text_config"].is_object();
  const Json& config = nested ? document["text_config"] : document;
  return ConfigLayout{config, nested ? "/text_config" : "", nested,
                      config.contains("ffn_config") && config["ffn_config"].is_object(),
                      config.contains("num_decoder_layers")};
}

std::string model_name(const Json& document, const std::string& source) {
  if (document.contains("_name_or_path") && document["_name_or_path"].is_string())
    return document["_name_or_path"].get<std::string>();
  if (document.contains("model_type") && document["model_type"].is_string())
    return document["model_type"].get<std::string>();
  return source;
}

// Routed experts: how many, how many a token picks, and their FFN width.
void read_experts(const ConfigLayout& layout, const ConfigFields& fields, ModelSpec& model,
                  ProblemList& problems) {
  if (layout.dbrx) {
    ConfigFields ffn(layout.config["ffn_config"], layout.base + "/ffn_config", problems);
    model.experts = static_cast<int>(ffn.integer({"moe_num_experts"}, 1, kMaxExperts));
    model.top_k = static_cast<int>(ffn.integer({"moe_top_k"}, 1, kMaxTopK));
    model.expert_ffn = ffn.integer({"ffn_hidden_size"}, 1, kMaxFfnWidth);
  } else {
    model.experts = static_cast<int>(
        fields.integer({"n_routed_experts", "num_local_experts", "num_experts"}, 1, kMaxExperts));
    // Switch Transformers route top-1 and write no field for it.
    const auto switch_top_k = layout.t5_style ? std::optional<std::int64_t>(1) : std::nullopt;
    model.top_k = static_cast<int>(fields.integer(
        {"num_experts_per_tok", "experts_per_token", "moe_top_k"}, 1, kMaxTopK, switch_top_k));
    model.expert_ffn = fields.integer(
        {"moe_intermediate_size", "intermediate_size", "ffn_hidden_size", "d_ff"}, 1, kMaxFfnWidth);
  }
  if (problems.empty() && model.top_k > model.experts)
    problems.add(layout.base + "/num_experts_per_tok",
                 fmt::format("top-k {} exceeds the {} experts", model.top_k, model.experts));
}

struct BlockCounts {
  std::int64_t encoder = 0;  // every block of a decoder-only model
  std::int64_t decoder = 0;  // T5-style models only
};

// Blocks and MoE blocks: T5-style models count encoder and decoder blocks.
BlockCounts read_blocks(const ConfigLayout& layout, const ConfigFields& fields, ModelSpec& model,
                        ProblemList& problems) {
  BlockCounts blocks;
  const std::size_t problems_before = problems.problems().size();
  blocks.encoder = fields.integer({"num_hidden_layers", "n_layers", "num_layers"}, 1, kMaxLayers);
  blocks.decoder = layout.t5_style ? fields.integer({"num_decoder_layers"}, 0, kMaxLayers) : 0;
  model.layers = static_cast<int>(blocks.encoder + blocks.decoder);
  if (model.layers > kMaxLayers) {  // each count is in range; their sum may not be
    problems.add(layout.base + "/num_decoder_layers",
                 fmt::format("expected encoder + decoder blocks <= {} (docs/limits.md), got {}",
                             kMaxLayers, model.layers));
    model.layers = 1;
    blocks = BlockCounts{1, 0};
  }
  if (problems.problems().size() > problems_before) return blocks;  // no block count to go on
  if (!layout.t5_style) {
    model.moe_layers = count_moe_layers(fields, model.layers, problems);
    return blocks;
  }
  const auto enc_step = fields.integer({"encoder_sparse_step"}, 0, kMaxLayers, 1);
  const auto dec_step = fields.integer({"decoder_sparse_step"}, 0, kMaxLayers, 1);
  // HF SwitchTransformers: block i is sparse when step == 1 or i % step == 1.
  auto sparse = [](std::int64_t block_count, std::int64_t step) {
    int count = 0;
    for (std::int64_t i = 0; i < block_count; ++i)
      count += (step == 1 || (step > 1 && i % step == 1));
    return count;
  };
  model.moe_layers = sparse(blocks.encoder, enc_step) + sparse(blocks.decoder, dec_step);
  model.gated_ffn = false;
  return blocks;
}

// The dense MLP width for blocks without experts, and the shared (always-on) experts.
void read_dense_and_shared_ffn(const ConfigLayout& layout, const ConfigFields& fields,
                               ModelSpec& model) {
  if (fields.find({"intermediate_size_mlp"}) != nullptr)  // Llama 4
    model.dense_ffn = fields.integer({"intermediate_size_mlp"}, 1, kMaxFfnWidth);
  else if (layout.config.contains("moe_intermediate_size"))  // DeepSeek, Kimi, Qwen
    model.dense_ffn = fields.integer({"intermediate_size"}, 1, kMaxFfnWidth, model.expert_ffn);
  else
    model.dense_ffn = model.expert_ffn;

  const auto shared_width = fields.integer({"shared_expert_intermediate_size"}, 0, kMaxFfnWidth, 0);
  if (fields.find({"n_shared_experts"}) != nullptr) {
    model.shared_experts = static_cast<int>(fields.integer({"n_shared_experts"}, 0, kMaxExperts));
    model.shared_expert_ffn = model.expert_ffn;
  } else if (shared_width > 0) {
    model.shared_experts = 1;
    model.shared_expert_ffn = shared_width;
  } else if (layout.nested && string_or(layout.config, "model_type", "") == "llama4_text") {
    model.shared_experts = 1;  // every Llama 4 MoE block adds one shared expert
    model.shared_expert_ffn = model.expert_ffn;
  }
}

void read_dbrx_attention(const ConfigLayout& layout, const ConfigFields& fields, ModelSpec& model,
                         ProblemList& problems) {
  static const Json kEmpty = Json::object();
  const auto attn_it = layout.config.find("attn_config");
  const Json& attn_config =
      attn_it != layout.config.end() && attn_it->is_object() ? *attn_it : kEmpty;
  ConfigFields attn(attn_config, layout.base + "/attn_config", problems);
  const int heads = static_cast<int>(fields.integer({"n_heads"}, 1, kMaxAttentionHeads));
  const int kv_heads = static_cast<int>(attn.integer({"kv_n_heads"}, 1, kMaxAttentionHeads, heads));
  const int head_dim = static_cast<int>(model.hidden / heads);
  model.attention = {
      .kind = AttentionKind::Gqa, .heads = heads, .kv_heads = kv_heads, .head_dim = head_dim};
  model.attention_params_per_layer = gqa_attention_params(model.hidden, heads, kv_heads, head_dim);
  model.kv_cache_bytes_per_token_per_layer = 2LL * kv_heads * head_dim * 2;
}

// DeepSeek's multi-head latent attention: the KV cache holds the compressed latent.
void read_mla_attention(const ConfigFields& fields, ModelSpec& model) {
  const int heads =
      static_cast<int>(fields.integer({"num_attention_heads"}, 1, kMaxAttentionHeads));
  MlaShape shape;
  shape.q_lora_rank = fields.integer({"q_lora_rank"}, 0, kMaxHidden, 0);
  shape.kv_lora_rank = fields.integer({"kv_lora_rank"}, 1, kMaxHidden);
  shape.qk_nope_head_dim = fields.integer({"qk_nope_head_dim"}, 1, kMaxHidden);
  shape.qk_rope_head_dim = fields.integer({"qk_rope_head_dim"}, 0, kMaxHidden);
  shape.v_head_dim = fields.integer({"v_head_dim"}, 1, kMaxHidden);
  model.attention = mla_attention_shape(heads, shape);
  model.attention_params_per_layer = mla_attention_params(model.hidden, heads, shape);
  model.kv_cache_bytes_per_token_per_layer = (shape.kv_lora_rank + shape.qk_rope_head_dim) * 2;
}

void read_gqa_attention(const ConfigLayout& layout, const ConfigFields& fields,
                        const BlockCounts& blocks, ModelSpec& model) {
  const int heads = static_cast<int>(
      fields.integer({"num_attention_heads", "num_heads", "n_heads"}, 1, kMaxAttentionHeads));
  const int kv_heads =
      static_cast<int>(fields.integer({"num_key_value_heads"}, 1, kMaxAttentionHeads, heads));
  const int head_dim = static_cast<int>(fields.integer(
      {"head_dim", "d_kv"}, 1, kMaxHidden, std::max<std::int64_t>(1, model.hidden / heads)));
  model.attention = {
      .kind = AttentionKind::Gqa, .heads = heads, .kv_heads = kv_heads, .head_dim = head_dim};
  const std::int64_t self_attention = gqa_attention_params(model.hidden, heads, kv_heads, head_dim);
  // T5 decoder blocks add cross-attention: the per-block average keeps the total right.
  model.attention_params_per_layer =
      layout.t5_style ? (self_attention * (blocks.encoder + 2 * blocks.decoder)) / model.layers
                      : self_attention;
  model.kv_cache_bytes_per_token_per_layer = 2LL * kv_heads * head_dim * 2;
}

// Figures computed from several fields: checked once every field is known to be in range, so a
// model that imports is one a scenario accepts.
void check_derived_sizes(const ConfigLayout& layout, const ModelSpec& model,
                         ProblemList& problems) {
  if (!problems.empty()) return;
  if (model.moe_layers < 1)
    problems.add(
        layout.base + "/num_hidden_layers",
        fmt::format("none of the {} blocks holds experts (check the MoE layer step fields)",
                    model.layers));
  if (model.attention_params_per_layer > kMaxAttentionParamsPerLayer)
    problems.add(layout.base + "/num_attention_heads",
                 fmt::format("attention parameters per block {} exceed {} (docs/limits.md)",
                             model.attention_params_per_layer, kMaxAttentionParamsPerLayer));
  if (model.kv_cache_bytes_per_token_per_layer > kMaxKvBytesPerTokenPerLayer)
    problems.add(
        layout.base + "/num_key_value_heads",
        fmt::format("KV-cache bytes per token per block {} exceed {} (docs/limits.md)",
                    model.kv_cache_bytes_per_token_per_layer, kMaxKvBytesPerTokenPerLayer));
}

}  // namespace

std::int64_t gqa_attention_params(std::int64_t hidden, int heads, int kv_heads, int head_dim) {
  const std::int64_t q = hidden * heads * head_dim;
  const std::int64_t kv = 2 * hidden * kv_heads * head_dim;
  const std::int64_t o = std::int64_t{heads} * head_dim * hidden;
  return q + kv + o;
}

AttentionShape mla_attention_shape(int heads, const MlaShape& s) {
  return {.kind = AttentionKind::Mla,
          .heads = heads,
          .kv_lora_rank = static_cast<int>(s.kv_lora_rank),
          .q_lora_rank = static_cast<int>(s.q_lora_rank),
          .qk_nope_head_dim = static_cast<int>(s.qk_nope_head_dim),
          .qk_rope_head_dim = static_cast<int>(s.qk_rope_head_dim),
          .v_head_dim = static_cast<int>(s.v_head_dim)};
}

std::int64_t mla_attention_params(std::int64_t hidden, int heads, const MlaShape& s) {
  const std::int64_t qk_head = s.qk_nope_head_dim + s.qk_rope_head_dim;
  const std::int64_t q = s.q_lora_rank > 0
                             ? hidden * s.q_lora_rank + s.q_lora_rank * heads * qk_head
                             : hidden * heads * qk_head;
  const std::int64_t kv_down = hidden * (s.kv_lora_rank + s.qk_rope_head_dim);
  const std::int64_t kv_up = s.kv_lora_rank * heads * (s.qk_nope_head_dim + s.v_head_dim);
  const std::int64_t o = std::int64_t{heads} * s.v_head_dim * hidden;
  return q + kv_down + kv_up + o;
}

ModelSpec import_hf_config(const Json& document, const std::string& source) {
  ProblemList problems;
  if (!document.is_object()) {
    problems.add("", "expected a config.json object, got " + describe_json_value(document));
    problems.throw_if_any(source);
  }
  const ConfigLayout layout = config_layout(document);
  ConfigFields fields(layout.config, layout.base, problems);

  ModelSpec model;
  model.source = source;
  model.name = model_name(document, source);
  model.hidden = fields.integer({"hidden_size", "d_model"}, 1, kMaxHidden);
  model.vocab = fields.integer({"vocab_size"}, 1, kMaxVocab);
  const auto tied = layout.config.find("tie_word_embeddings");
  model.tied_embeddings =
      tied != layout.config.end() && tied->is_boolean() ? tied->get<bool>() : layout.t5_style;
  read_experts(layout, fields, model, problems);
  const BlockCounts blocks = read_blocks(layout, fields, model, problems);
  read_dense_and_shared_ffn(layout, fields, model);
  model.gating = string_or(layout.config, "scoring_func", "softmax") == "sigmoid" ? Gating::Sigmoid
                                                                                  : Gating::Softmax;
  model.expert_groups = static_cast<int>(fields.integer({"n_group"}, 1, kMaxExperts, 1));
  model.topk_groups = static_cast<int>(fields.integer({"topk_group"}, 1, kMaxExperts, 1));
  if (model.expert_groups > 1 && model.experts % model.expert_groups == 0 &&
      model.topk_groups <= model.expert_groups &&
      model.top_k > model.topk_groups * (model.experts / model.expert_groups))
    problems.add(layout.base + "/num_experts_per_tok",
                 fmt::format("expected at most topk_group x experts per group = {} x {}, got {}",
                             model.topk_groups, model.experts / model.expert_groups, model.top_k));
  // DeepSeek-V3's architecture (R1 included) routes as the preset does (model_presets.hpp).
  if (string_or(layout.config, "model_type", "") == "deepseek_v3")
    model.default_batch_load_sigma = kDeepSeekV3BatchLoadSigma;

  apply_hf_quantization(layout.config, model, problems);
  if (layout.dbrx)
    read_dbrx_attention(layout, fields, model, problems);
  else if (layout.config.contains("kv_lora_rank"))
    read_mla_attention(fields, model);
  else
    read_gqa_attention(layout, fields, blocks, model);
  check_derived_sizes(layout, model, problems);
  problems.throw_if_any(source);
  return model;
}

ModelSpec import_hf_config_file(const std::string& path) {
  return import_hf_config(parse_strict_json(read_text_file(path), path), path);
}

}  // namespace moesim::sim
