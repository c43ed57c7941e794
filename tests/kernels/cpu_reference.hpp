#pragma once
// Plain CPU references (double precision) for the kernels, written for clarity, not speed.
#include <vector>

#include "kernels/topk_gating.hpp"

namespace moesim::kernels::testing {

struct GatingResult {
  std::vector<int> ids;           // [tokens, top_k]
  std::vector<double> weights;    // [tokens, top_k]
  std::vector<double> selection;  // [tokens, experts]: the score the choice was made on
};

// bias: host [experts] or empty.
GatingResult reference_gating(const std::vector<float>& logits, int tokens,
                              const GatingParams& params, const std::vector<float>& bias);

// Stable sort of (token, slot) entries by expert: returns dest_row per entry and counts.
void reference_routing(const std::vector<int>& expert_ids, int experts, std::vector<int>& dest_row,
                       std::vector<int>& counts);

// out[rows, n] = a[rows, k] * w[n, k]^T
std::vector<double> reference_matmul_nt(const std::vector<double>& a, const std::vector<double>& w,
                                        int rows, int n, int k);

// silu(gate) * up on [rows, 2 * ffn] -> [rows, ffn]
std::vector<double> reference_swiglu(const std::vector<double>& gate_up, int rows, int ffn);

}  // namespace moesim::kernels::testing
