#include <stdexcept>

#include "kernels/cuda_check.hpp"
#include "kernels/permute.hpp"

namespace moesim::kernels {
namespace {

__global__ void count_chunks_kernel(const int* __restrict__ expert_ids, int entries, int experts,
                                    int* __restrict__ chunk_counts) {
  __shared__ int counts[kMaxPermuteExperts];
  for (int e = threadIdx.x; e < experts; e += blockDim.x) counts[e] = 0;
  __syncthreads();
  const int entry = blockIdx.x * kPermuteChunk + threadIdx.x;
  if (entry < entries) atomicAdd(&counts[expert_ids[entry]], 1);
  __syncthreads();
  for (int e = threadIdx.x; e < experts; e += blockDim.x)
    chunk_counts[blockIdx.x * experts + e] = counts[e];
}

// Turns per-chunk counts into per-chunk starting positions inside each expert's segment.
__global__ void scan_chunks_kernel(int chunks, int experts, int* __restrict__ chunk_counts,
                                   int* __restrict__ expert_counts, int* __restrict__ offsets) {
  __shared__ int totals[kMaxPermuteExperts];
  for (int e = threadIdx.x; e < experts; e += blockDim.x) {
    int running = 0;
    for (int c = 0; c < chunks; ++c) {
      const int count = chunk_counts[c * experts + e];
      chunk_counts[c * experts + e] = running;
      running += count;
    }
    totals[e] = running;
    expert_counts[e] = running;
  }
  __syncthreads();
  if (threadIdx.x == 0) {  // at most 1024 additions: cheaper than a parallel scan's launch logic
    int running = 0;
    for (int e = 0; e < experts; ++e) {
      offsets[e] = running;
      running += totals[e];
    }
    offsets[experts] = running;
  }
}

__global__ void place_kernel(const int* __restrict__ expert_ids, int entries, int top_k,
                             int experts, const int* __restrict__ chunk_starts,
                             const int* __restrict__ offsets, int* __restrict__ dest_row,
                             int* __restrict__ source_token) {
  __shared__ int ids[kPermuteChunk];
  const int entry = blockIdx.x * kPermuteChunk + threadIdx.x;
  ids[threadIdx.x] = entry < entries ? expert_ids[entry] : -1;
  __syncthreads();
  if (entry >= entries) return;
  const int expert = ids[threadIdx.x];
  int rank = 0;
  for (int j = 0; j < threadIdx.x; ++j) rank += ids[j] == expert ? 1 : 0;
  const int row = offsets[expert] + chunk_starts[blockIdx.x * experts + expert] + rank;
  dest_row[entry] = row;
  source_token[row] = entry / top_k;
}

}  // namespace

std::size_t permute_scratch_ints(int entries, int experts) {
  const std::size_t chunks =
      (static_cast<std::size_t>(entries) + kPermuteChunk - 1) / kPermuteChunk;
  return (chunks == 0 ? 1 : chunks) * static_cast<std::size_t>(experts);
}

void launch_build_routing(const int* expert_ids, int entries, int top_k, int experts, int* scratch,
                          int* expert_counts, int* expert_offsets, int* dest_row, int* source_token,
                          cudaStream_t stream) {
  if (experts < 1 || experts > kMaxPermuteExperts) throw std::invalid_argument("permute: experts");
  if (top_k < 1) throw std::invalid_argument("permute: top_k");
  const int chunks = (entries + kPermuteChunk - 1) / kPermuteChunk;
  if (chunks > 0) {
    count_chunks_kernel<<<chunks, kPermuteChunk, 0, stream>>>(expert_ids, entries, experts,
                                                              scratch);
    MOESIM_CUDA_CHECK_LAUNCH();
  }
  scan_chunks_kernel<<<1, 1024, 0, stream>>>(chunks, experts, scratch, expert_counts,
                                             expert_offsets);
  MOESIM_CUDA_CHECK_LAUNCH();
  if (chunks > 0) {
    place_kernel<<<chunks, kPermuteChunk, 0, stream>>>(expert_ids, entries, top_k, experts, scratch,
                                                       expert_offsets, dest_row, source_token);
    MOESIM_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace moesim::kernels
