#pragma once
// Weighted combine (the unpermute of the MoE output): out[t] = sum_s w[t,s] * rows[dest_row[t,s]],
// accumulated in fp32, written in bf16.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

namespace moesim::kernels {

// hidden must be a multiple of 8.
void launch_weighted_combine(const __nv_bfloat16* expert_rows, const int* dest_row,
                             const float* weights, int tokens, int top_k, int hidden,
                             __nv_bfloat16* out, cudaStream_t stream);

}  // namespace moesim::kernels
