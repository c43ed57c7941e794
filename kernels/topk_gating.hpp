#pragma once
// Top-k expert selection from router logits: softmax (Mixtral, Qwen3) or sigmoid with a
// selection bias (DeepSeek-V3), optionally group-limited (pick topk_groups groups first).
#include <cuda_runtime.h>

namespace moesim::kernels {

enum class GatingMode { Softmax, Sigmoid };

inline constexpr int kMaxGatingExperts = 1024;
inline constexpr int kMaxGatingTopK = 32;
inline constexpr int kMaxExpertGroups = 32;

struct GatingParams {
  GatingMode mode = GatingMode::Softmax;
  int experts = 0;
  int top_k = 0;
  int groups = 1;               // DeepSeek's n_group; 1 = no group limit
  int topk_groups = 1;          // groups kept per token
  bool renormalize = true;      // weights divided by their sum over the chosen k
  float scaling = 1.0f;         // DeepSeek-V3's routed_scaling_factor
  const float* bias = nullptr;  // device [experts]; added for selection only (sigmoid mode)
};

// Throws std::invalid_argument when the parameters are out of the kernel's range.
void validate_gating_params(const GatingParams& params);

// logits: device [tokens, experts] fp32. Writes expert_ids [tokens, top_k] in descending score
// order (ties to the lower index) and weights [tokens, top_k].
// Group score: sum of the top two scores in the group (sigmoid, as DeepSeek-V3), the max (softmax).
void launch_topk_gating(const float* logits, int tokens, const GatingParams& params,
                        int* expert_ids, float* weights, cudaStream_t stream);

}  // namespace moesim::kernels
