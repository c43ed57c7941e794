#include "kernels/cuda_check.hpp"
#include "kernels/fill.hpp"

namespace moesim::kernels {
namespace {

__device__ float hash_uniform(std::uint64_t seed, long long i) {
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(i);
  x ^= x >> 33;  // splitmix64 finaliser
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return static_cast<float>(x >> 40) * (1.0f / 16777216.0f) * 2.0f - 1.0f;
}

__global__ void fill_bf16_kernel(__nv_bfloat16* out, long long count, float scale,
                                 std::uint64_t seed) {
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<long long>(gridDim.x) * blockDim.x)
    out[i] = __float2bfloat16(scale * hash_uniform(seed, i));
}

__global__ void fill_f32_kernel(float* out, long long count, float scale, std::uint64_t seed) {
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<long long>(gridDim.x) * blockDim.x)
    out[i] = scale * hash_uniform(seed, i);
}

__global__ void fill_fp8_kernel(__nv_fp8_e4m3* out, long long count, float scale,
                                std::uint64_t seed) {
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<long long>(gridDim.x) * blockDim.x)
    out[i] = __nv_fp8_e4m3(scale * hash_uniform(seed, i));
}

__global__ void fill_nan_kernel(__nv_bfloat16* out, long long count) {
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<long long>(gridDim.x) * blockDim.x)
    out[i] = __float2bfloat16(__int_as_float(0x7fc00000));
}

int blocks_for(long long count) {
  const long long wanted = (count + 255) / 256;
  return static_cast<int>(wanted < 4096 ? wanted : 4096);
}

}  // namespace

void launch_fill_uniform_bf16(__nv_bfloat16* out, long long count, float scale, std::uint64_t seed,
                              cudaStream_t stream) {
  if (count <= 0) return;
  fill_bf16_kernel<<<blocks_for(count), 256, 0, stream>>>(out, count, scale, seed);
  MOESIM_CUDA_CHECK_LAUNCH();
}

void launch_fill_uniform_f32(float* out, long long count, float scale, std::uint64_t seed,
                             cudaStream_t stream) {
  if (count <= 0) return;
  fill_f32_kernel<<<blocks_for(count), 256, 0, stream>>>(out, count, scale, seed);
  MOESIM_CUDA_CHECK_LAUNCH();
}

void launch_fill_uniform_fp8_e4m3(__nv_fp8_e4m3* out, long long count, float scale,
                                  std::uint64_t seed, cudaStream_t stream) {
  if (count <= 0) return;
  fill_fp8_kernel<<<blocks_for(count), 256, 0, stream>>>(out, count, scale, seed);
  MOESIM_CUDA_CHECK_LAUNCH();
}

void launch_fill_nan_bf16(__nv_bfloat16* out, long long count, cudaStream_t stream) {
  if (count <= 0) return;
  fill_nan_kernel<<<blocks_for(count), 256, 0, stream>>>(out, count);
  MOESIM_CUDA_CHECK_LAUNCH();
}

}  // namespace moesim::kernels
