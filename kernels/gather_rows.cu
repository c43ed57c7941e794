#include <stdexcept>

#include "kernels/cuda_check.hpp"
#include "kernels/gather_rows.hpp"

namespace moesim::kernels {
namespace {

// 16-byte accesses; one block walks several rows so small rows still fill the chip.
__global__ void gather_rows_kernel(const uint4* __restrict__ in, const int* __restrict__ index,
                                   int rows, int vectors_per_row, uint4* __restrict__ out) {
  for (int row = blockIdx.x; row < rows; row += gridDim.x) {
    const uint4* src = in + static_cast<long long>(index[row]) * vectors_per_row;
    uint4* dst = out + static_cast<long long>(row) * vectors_per_row;
    for (int v = threadIdx.x; v < vectors_per_row; v += blockDim.x) dst[v] = src[v];
  }
}

}  // namespace

void launch_gather_rows(const __nv_bfloat16* in, const int* index, int rows, int hidden,
                        __nv_bfloat16* out, cudaStream_t stream) {
  if (hidden % 8 != 0) throw std::invalid_argument("gather_rows: hidden must be a multiple of 8");
  if (rows <= 0) return;
  const int vectors = hidden / 8;
  const int threads = vectors >= 256 ? 256 : ((vectors + 31) / 32) * 32;
  const int blocks = rows < 65535 ? rows : 65535;
  gather_rows_kernel<<<blocks, threads, 0, stream>>>(reinterpret_cast<const uint4*>(in), index,
                                                     rows, vectors, reinterpret_cast<uint4*>(out));
  MOESIM_CUDA_CHECK_LAUNCH();
}

}  // namespace moesim::kernels
