#pragma once
// The rate a fused causal attention kernel reaches on a prefill, as a share of the large BF16 GEMM
// rate, by prompt length (the profile's `attention_core` section, docs/profile-format.md). Short
// prompts leave more of each kernel's tiles half-masked and more time in the softmax between the
// two products: on the H200 cuDNN's kernel reaches 0.26 of the GEMM rate at 256-token prompts and
// 0.74-0.80 from 4,096 (docs/measurements/h200-attention-core-0141z.json).
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "base/config_error.hpp"

namespace moesim::sim {

// x: log2(prompt tokens), y: core rate / GEMM rate, ascending in x.
struct AttentionCoreCurve {
  struct Point {
    double log2_prompt = 0;
    double of_gemm_rate = 0;
  };
  std::vector<Point> points;
  double smallest_prompt() const;
  double largest_prompt() const;
};

// /attention_core of a profile document; nullopt when absent. Each prompt length's ratio is the
// median over the measured shapes (within 0.08 of each other at every length on the H200).
// Problems are recorded with their JSON pointers.
std::optional<AttentionCoreCurve> read_attention_core(const nlohmann::json& document,
                                                      ProblemList& problems);

// The share of the GEMM rate at `prompt_tokens`: linear in log2(prompt) between measured prompt
// lengths, the nearest measured value outside them (the report names the measured range).
double attention_core_share(const AttentionCoreCurve& curve, double prompt_tokens);

}  // namespace moesim::sim
