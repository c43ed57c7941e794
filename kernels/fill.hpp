#pragma once
// Device-side fills for inputs and poison: a counter-based hash, so any size fills in one pass
// and the same seed gives the same values.
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace moesim::kernels {

// Uniform in [-scale, scale).
void launch_fill_uniform_bf16(__nv_bfloat16* out, long long count, float scale, std::uint64_t seed,
                              cudaStream_t stream);
void launch_fill_uniform_f32(float* out, long long count, float scale, std::uint64_t seed,
                             cudaStream_t stream);
void launch_fill_uniform_fp8_e4m3(__nv_fp8_e4m3* out, long long count, float scale,
                                  std::uint64_t seed, cudaStream_t stream);
// Sets every element to NaN, so an element a kernel forgets to write shows up in a check.
void launch_fill_nan_bf16(__nv_bfloat16* out, long long count, cudaStream_t stream);

}  // namespace moesim::kernels
