#pragma once
// Seeded routing generators for measurements and validation cases, and the model shapes profiled.
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/topk_gating.hpp"

namespace moesim::profiler {

struct Routing {
  std::vector<int> expert_ids;  // [tokens, top_k], distinct per token
  std::vector<float> weights;   // [tokens, top_k], summing to 1 per token
};

// zipf_exponent 0 = uniform; otherwise expert popularity ~ 1 / rank^s over a seeded shuffle
// of the experts. Each token draws top_k distinct experts.
Routing generate_routing(int tokens, int top_k, int experts, double zipf_exponent,
                         std::uint64_t seed);
std::vector<int> expert_histogram(const std::vector<int>& expert_ids, int experts);

struct ModelShape {
  std::string name;
  int hidden = 0;
  int expert_ffn = 0;
  int experts = 0;
  int top_k = 0;
  kernels::GatingParams gating;
};

// Mixtral-8x7B, DeepSeek-V3 and Qwen3-30B-A3B, from the simulator's presets.
std::vector<ModelShape> profiled_models();

}  // namespace moesim::profiler
