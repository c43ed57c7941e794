#include <stdexcept>

#include "kernels/cuda_check.hpp"
#include "kernels/swiglu.hpp"

namespace moesim::kernels {
namespace {

__global__ void swiglu_kernel(const uint4* __restrict__ gate_up, long long rows,
                              int vectors_per_half, uint4* __restrict__ out) {
  const long long total = rows * vectors_per_half;
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<long long>(gridDim.x) * blockDim.x) {
    const long long row = i / vectors_per_half;
    const int v = static_cast<int>(i - row * vectors_per_half);
    const uint4 gate = gate_up[row * 2 * vectors_per_half + v];
    const uint4 up = gate_up[row * 2 * vectors_per_half + vectors_per_half + v];
    const __nv_bfloat162* g = reinterpret_cast<const __nv_bfloat162*>(&gate);
    const __nv_bfloat162* u = reinterpret_cast<const __nv_bfloat162*>(&up);
    uint4 result;
    __nv_bfloat162* r = reinterpret_cast<__nv_bfloat162*>(&result);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float2 gf = __bfloat1622float2(g[j]);
      const float2 uf = __bfloat1622float2(u[j]);
      r[j] = __floats2bfloat162_rn(gf.x / (1.0f + __expf(-gf.x)) * uf.x,
                                   gf.y / (1.0f + __expf(-gf.y)) * uf.y);
    }
    out[i] = result;
  }
}

}  // namespace

void launch_swiglu(const __nv_bfloat16* gate_up, long long rows, int ffn, __nv_bfloat16* out,
                   cudaStream_t stream) {
  if (ffn % 8 != 0) throw std::invalid_argument("swiglu: ffn must be a multiple of 8");
  if (rows <= 0) return;
  const long long total = rows * (ffn / 8);
  const long long wanted = (total + 255) / 256;
  const int blocks = static_cast<int>(wanted < 132 * 16 ? wanted : 132 * 16);
  swiglu_kernel<<<blocks, 256, 0, stream>>>(reinterpret_cast<const uint4*>(gate_up), rows, ffn / 8,
                                            reinterpret_cast<uint4*>(out));
  MOESIM_CUDA_CHECK_LAUNCH();
}

}  // namespace moesim::kernels
