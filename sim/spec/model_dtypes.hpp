#pragma once
// The model section's dtype fields: bytes a weight, a dispatched and a combined element, and the
// FP8 weights' scaling recipe (docs/decode-model.md, "FP8 and other dtypes").
#include "base/json_fields.hpp"
#include "sim/spec/model_spec.hpp"

namespace moesim::sim {

// Reads weight_bytes, attention_weight_bytes, dispatch_bytes, combine_bytes and
// weight_scale_block (0 or 128) into `m`, keeping its values where a field is absent.
void read_model_dtypes(FieldReader& r, ModelSpec& m);

// A Hugging Face config's `quantization_config` of an FP8 checkpoint (quant_method "fp8", as
// DeepSeek-V3's and Qwen3's FP8 releases): one-byte weights, block-scaled when it gives a
// weight_block_size of [128, 128]. Any other method or block size is a problem: pricing it as
// BF16 or as another recipe would change the model without a word.
void apply_hf_quantization(const nlohmann::json& config, ModelSpec& m, ProblemList& problems);

}  // namespace moesim::sim
