#pragma once
// Row gather for bf16 activations: out[r] = in[index[r]]. Permute uses source_token as the
// index (tokens -> expert-sorted rows); unpermute uses dest_row (sorted rows -> (token, slot)).
#include <cuda_bf16.h>
#include <cuda_runtime.h>

namespace moesim::kernels {

// hidden must be a multiple of 8 (16-byte rows chunks).
void launch_gather_rows(const __nv_bfloat16* in, const int* index, int rows, int hidden,
                        __nv_bfloat16* out, cudaStream_t stream);

}  // namespace moesim::kernels
