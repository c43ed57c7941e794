#include "sim/spec/model_dtypes.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <string>

#include "base/strict_json.hpp"

namespace moesim::sim {

void read_model_dtypes(FieldReader& r, ModelSpec& m) {
  m.weight_bytes = r.number("weight_bytes", 0.5, 4, m.weight_bytes);
  m.attention_weight_bytes = r.number("attention_weight_bytes", 0.5, 4, m.attention_weight_bytes);
  m.dispatch_bytes = r.number("dispatch_bytes", 0.5, 4, m.dispatch_bytes);
  m.combine_bytes = r.number("combine_bytes", 0.5, 4, m.combine_bytes);
  if (!r.has("weight_scale_block")) return;
  // Only the two recipes a profile measures: one scale a tensor, or DeepSeek-V3's blocks.
  const std::int64_t block = r.integer("weight_scale_block", 0, 128);
  if (block == 0 || block == 128) {
    m.weight_scale_block = static_cast<int>(block);
    return;
  }
  r.problems().add(r.path_of("weight_scale_block"),
                   fmt::format("expected 0 (one FP8 scale a tensor) or 128 (one a 128x128 block of "
                               "weights, one a 1x128 slice of activations), got {}",
                               block));
}

void apply_hf_quantization(const nlohmann::json& config, ModelSpec& m, ProblemList& problems) {
  const auto quantization = config.find("quantization_config");
  if (quantization == config.end()) return;
  if (!quantization->is_object()) {
    problems.add("/quantization_config",
                 fmt::format("expected an object, got {}", describe_json_value(*quantization)));
    return;
  }
  const auto method = quantization->find("quant_method");
  if (method == quantization->end() || *method != "fp8") {
    problems.add(
        "/quantization_config/quant_method",
        fmt::format("expected \"fp8\" (the quantisation moesim prices), got {}; remove "
                    "quantization_config to price the checkpoint at its torch_dtype, or "
                    "set model.weight_bytes in a scenario",
                    method == quantization->end() ? "nothing" : describe_json_value(*method)));
    return;
  }
  m.weight_bytes = 1;
  const auto block = quantization->find("weight_block_size");
  if (block == quantization->end()) return;
  if (*block != nlohmann::json::array({128, 128})) {
    std::string shown = block->dump();
    if (shown.size() > 40) shown = shown.substr(0, 40) + "...";
    problems.add("/quantization_config/weight_block_size",
                 fmt::format("expected [128, 128] (DeepSeek-V3's recipe, the block size moesim "
                             "prices), got {}",
                             shown));
    return;
  }
  m.weight_scale_block = 128;
}

}  // namespace moesim::sim
