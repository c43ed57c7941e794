#include <stdexcept>

#include "kernels/combine.hpp"
#include "kernels/cuda_check.hpp"

namespace moesim::kernels {
namespace {

__global__ void weighted_combine_kernel(const uint4* __restrict__ rows,
                                        const int* __restrict__ dest_row,
                                        const float* __restrict__ weights, int tokens, int top_k,
                                        int vectors_per_row, uint4* __restrict__ out) {
  for (int token = blockIdx.x; token < tokens; token += gridDim.x) {
    for (int v = threadIdx.x; v < vectors_per_row; v += blockDim.x) {
      float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (int s = 0; s < top_k; ++s) {
        const int entry = token * top_k + s;
        const float w = weights[entry];
        const uint4 packed = rows[static_cast<long long>(dest_row[entry]) * vectors_per_row + v];
        const __nv_bfloat162* pairs = reinterpret_cast<const __nv_bfloat162*>(&packed);
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const float2 f = __bfloat1622float2(pairs[i]);
          acc[2 * i] += w * f.x;
          acc[2 * i + 1] += w * f.y;
        }
      }
      uint4 result;
      __nv_bfloat162* pairs = reinterpret_cast<__nv_bfloat162*>(&result);
#pragma unroll
      for (int i = 0; i < 4; ++i) pairs[i] = __floats2bfloat162_rn(acc[2 * i], acc[2 * i + 1]);
      out[static_cast<long long>(token) * vectors_per_row + v] = result;
    }
  }
}

}  // namespace

void launch_weighted_combine(const __nv_bfloat16* expert_rows, const int* dest_row,
                             const float* weights, int tokens, int top_k, int hidden,
                             __nv_bfloat16* out, cudaStream_t stream) {
  if (hidden % 8 != 0) throw std::invalid_argument("combine: hidden must be a multiple of 8");
  if (tokens <= 0) return;
  const int vectors = hidden / 8;
  const int threads = vectors >= 256 ? 256 : ((vectors + 31) / 32) * 32;
  const int blocks = tokens < 65535 ? tokens : 65535;
  weighted_combine_kernel<<<blocks, threads, 0, stream>>>(
      reinterpret_cast<const uint4*>(expert_rows), dest_row, weights, tokens, top_k, vectors,
      reinterpret_cast<uint4*>(out));
  MOESIM_CUDA_CHECK_LAUNCH();
}

}  // namespace moesim::kernels
