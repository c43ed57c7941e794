#pragma once
// The collectives section's arithmetic, CPU only (tested in CI): message sizes, MoE-like uneven
// splits, and the one place where algbw and busbw are defined (nccl-tests' doc/PERFORMANCE.md):
//   algbw = bytes / time, bytes = what each rank sends in total;
//   all-to-all(v): busbw = algbw * (ranks - 1) / ranks  (a rank's share to itself crosses no link);
//   send/recv:     busbw = algbw;
//   all-reduce:    busbw = algbw * 2 (ranks - 1) / ranks, bytes = the vector each rank holds;
//   all-gather:    busbw = algbw * (ranks - 1) / ranks, bytes = the gathered output;
//   reduce-scatter: busbw = algbw * (ranks - 1) / ranks, bytes = the input each rank reduces.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace moesim::profiler {

enum class CollectiveOp { AllToAll, AllToAllv, SendRecv, AllReduce, AllGather, ReduceScatter };

// "all_to_all", "all_to_allv", "send_recv", "all_reduce", "all_gather", "reduce_scatter"
std::string collective_name(CollectiveOp op);
double bus_bandwidth(CollectiveOp op, double algbw_bytes_per_s, int ranks);

// Bytes per rank: full mode every power of 2 from 1 KiB to 1 GiB (21 sizes); quick mode every
// power of 16 from 1 KiB (1 KiB, 16 KiB, ..., 1 GiB: 6 sizes).
std::vector<std::size_t> collective_message_sizes(bool quick);

// Back-to-back operations per timed run, so that a run outlasts the event timer's resolution
// and the launch gaps, while the largest sizes stay quick. The same on every rank.
int collective_ops_per_run(std::size_t bytes);

// `total` bytes cut into one piece per share (shares need not sum to 1), each a multiple of
// `granule`; the last non-empty piece takes the rounding remainder, so the pieces sum to total.
std::vector<std::size_t> split_bytes(std::size_t total, const std::vector<double>& shares,
                                     std::size_t granule);

// One measured point: the per-run time is the slowest rank's (a collective is done when its last
// rank is); ranks that took no part send no samples. Bandwidths from the median.
nlohmann::json collective_entry(CollectiveOp op, int ranks, std::size_t bytes, int ops_per_run,
                                const std::vector<std::vector<double>>& per_rank_samples_us);

}  // namespace moesim::profiler
