#pragma once
// SwiGLU activation: out[r, j] = silu(gate_up[r, j]) * gate_up[r, ffn + j], gate first, up second.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

namespace moesim::kernels {

// gate_up: [rows, 2 * ffn] bf16; out: [rows, ffn] bf16; ffn a multiple of 8.
void launch_swiglu(const __nv_bfloat16* gate_up, long long rows, int ffn, __nv_bfloat16* out,
                   cudaStream_t stream);

}  // namespace moesim::kernels
