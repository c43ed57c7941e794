#pragma once
// Moves runs of consecutive bf16 rows from one place to another: the EP executor's regrouping
// of received rows from peer-major to expert-major order (and back), one run per (peer, expert).
#include <cuda_bf16.h>
#include <cuda_runtime.h>

namespace moesim::kernels {

struct RowChunk {
  long long src_row;
  long long dst_row;
  long long rows;
};

// out[c.dst_row + r] = in[c.src_row + r] for r < c.rows, for each of the `count` chunks (a device
// array). hidden must be a multiple of 8 (16-byte rows).
void launch_copy_row_chunks(const __nv_bfloat16* in, const RowChunk* chunks, int count, int hidden,
                            __nv_bfloat16* out, cudaStream_t stream);

}  // namespace moesim::kernels
