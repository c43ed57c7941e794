#pragma once
// Flow classes: the GPU pairs of one all-to-all that move alike, played as one flow with a
// multiplicity. A MoE dispatch sends the same bytes from every GPU of a scale-up domain to a given
// GPU (the traffic plan has one row per source domain), so a 256-GPU collective of 65,280 pairs
// has a few hundred classes. A class's path is its members' paths summed link by link: at rate r
// each member moves r, and a link carries r x the members' summed share. Rates are tied within a
// class and its latency is the members' mean, which is exact when its members are interchangeable
// (same bytes, latency and bottleneck alone, links loaded alike); docs/network-model.md says where
// it is not.
#include <cstdint>
#include <functional>
#include <vector>

#include "sim/network/all_to_all.hpp"

namespace moesim::sim {

struct GpuPair {
  int source = 0;
  int destination = 0;
};

struct FlowClass {
  std::vector<GpuPair> members;
  FlowPath path;    // the members' paths summed hop by hop
  Bytes bytes = 0;  // per member
  SimTime latency;  // before the bytes flow: the members' mean, to the nanosecond
};

// The route between two GPUs, by reference (a table the caller keeps).
using PathLookup = std::function<const RoutedPath&(int source, int destination)>;

// Pairs with bytes, grouped by (anchor GPU, bytes, the rate the pair's path allows alone at
// `capacity`): a pair behind a slower link (a degraded NIC) has a class of its own. The anchor is
// each pair's destination, or its source when that gives fewer classes (a combine returns what the
// dispatch sent: its columns differ where the dispatch's rows do not). Classes in the order their
// first pair appears, scanning sources then destinations.
std::vector<FlowClass> classify_pairs(const ByteMatrix& bytes, const PathLookup& path,
                                      const std::vector<BytesPerSecond>& capacity);

// The pieces of classify_pairs, for callers that reuse classes across collectives
// (classed_all_to_all.hpp). Pairs are indexed row-major: source * GPUs + destination.
inline constexpr std::uint32_t kNoPairClass = 0xffffffffu;
struct PairPartition {
  std::vector<std::uint32_t> class_of;  // by pair; kNoPairClass where no bytes
  std::uint32_t classes = 0;
  bool operator==(const PairPartition&) const = default;
};
// Every pair's rate alone (0 on the diagonal), bytes or not.
std::vector<double> alone_rates(std::size_t gpus, const PathLookup& path,
                                const std::vector<BytesPerSecond>& capacity);
// Which class each pair falls in, numbered in the order classify_pairs gives its classes.
// Validates the matrix as simulate_all_to_all does.
PairPartition partition_pairs(const ByteMatrix& bytes, const std::vector<double>& alone);
// The classes of a partition: members, summed paths and mean latencies; bytes from `bytes`.
std::vector<FlowClass> partition_classes(const PairPartition& partition, const ByteMatrix& bytes,
                                         const PathLookup& path, std::size_t link_count);

// simulate_all_to_all for direct dispatch, one flow per class. `links` may be link groups
// (link_groups.hpp): the path lookup must then give grouped paths. `flows` in the result counts
// classes. Throws std::invalid_argument as simulate_all_to_all does; hierarchical is refused.
AllToAllResult simulate_classed_all_to_all(const ByteMatrix& bytes, const PathLookup& path,
                                           const NetworkLinks& links,
                                           const AllToAllOptions& options = {});

}  // namespace moesim::sim
