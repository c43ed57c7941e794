#include <stdexcept>

#include "kernels/copy_row_chunks.hpp"
#include "kernels/cuda_check.hpp"

namespace moesim::kernels {
namespace {

constexpr int kRowBlocksPerChunk = 32;

// Block (c, y) copies rows y, y + 32, ... of chunk c with 16-byte accesses.
__global__ void copy_row_chunks_kernel(const uint4* __restrict__ in,
                                       const RowChunk* __restrict__ chunks, int vectors_per_row,
                                       uint4* __restrict__ out) {
  const RowChunk chunk = chunks[blockIdx.x];
  for (long long r = blockIdx.y; r < chunk.rows; r += gridDim.y) {
    const uint4* src = in + (chunk.src_row + r) * vectors_per_row;
    uint4* dst = out + (chunk.dst_row + r) * vectors_per_row;
    for (int v = threadIdx.x; v < vectors_per_row; v += blockDim.x) dst[v] = src[v];
  }
}

}  // namespace

void launch_copy_row_chunks(const __nv_bfloat16* in, const RowChunk* chunks, int count, int hidden,
                            __nv_bfloat16* out, cudaStream_t stream) {
  if (hidden % 8 != 0)
    throw std::invalid_argument("copy_row_chunks: hidden must be a multiple of 8");
  if (count <= 0) return;
  const int vectors = hidden / 8;
  const int threads = vectors >= 256 ? 256 : ((vectors + 31) / 32) * 32;
  const dim3 grid(static_cast<unsigned>(count), kRowBlocksPerChunk);
  copy_row_chunks_kernel<<<grid, threads, 0, stream>>>(reinterpret_cast<const uint4*>(in), chunks,
                                                       vectors, reinterpret_cast<uint4*>(out));
  MOESIM_CUDA_CHECK_LAUNCH();
}

}  // namespace moesim::kernels
