#pragma once
// Routing tables for a dispatch: tokens sorted by expert, stable in (token, slot) order.
#include <cuda_runtime.h>

#include <cstddef>

namespace moesim::kernels {

inline constexpr int kMaxPermuteExperts = 1024;
inline constexpr int kPermuteChunk = 256;  // (token, slot) entries per block

// Scratch the routing build needs: ints for per-chunk counts.
std::size_t permute_scratch_ints(int entries, int experts);

// expert_ids: device [entries] (entries = tokens * top_k). Writes
//   expert_counts [experts], expert_offsets [experts + 1] (exclusive prefix, last = entries),
//   dest_row [entries]: the permuted row of each (token, slot), and
//   source_token [entries]: for each permuted row, the token it came from (entry / top_k).
// Within one expert, rows keep (token, slot) order, so the result is deterministic.
void launch_build_routing(const int* expert_ids, int entries, int top_k, int experts, int* scratch,
                          int* expert_counts, int* expert_offsets, int* dest_row, int* source_token,
                          cudaStream_t stream);

}  // namespace moesim::kernels
