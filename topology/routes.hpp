#pragma once
// Which links a message between two GPUs crosses, and what share of its bytes each carries.
// Inside a scale-up domain: NVLink (or Infinity Fabric, or PCIe peer-to-peer on PCIe-only nodes).
// Otherwise GPU -> own NIC -> leaf -> (spine -> (core -> spine)) -> leaf -> NIC -> GPU on the rail,
// with ECMP over the equal-cost uplinks as an even split at each hop; with PXN the sender first
// hands the message over NVLink to the peer GPU on the destination's rail (NCCL's PXN).
//
// Routes are composed from segments computed once per class and cached: GPU -> leaf and
// leaf -> GPU per GPU, the fabric up-/down-segments per leaf and tier, intra-domain routes per
// pair. A query after the first of its class is a few lookups; no graph search per message. Not
// thread-safe (the caches fill lazily): one Router per thread.
#include <array>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "topology/cluster_graph.hpp"

namespace moesim::topology {

// A fraction of a message's bytes crossing one link; the shares of one hop sum to 1.
struct LinkShare {
  LinkId link = 0;
  double share = 1.0;
};

struct RouteOptions {
  bool pxn = false;  // cross-rail traffic goes over NVLink to the peer on the destination rail
};

// One cached piece of a route.
struct RouteSegment {
  std::vector<LinkShare> links;
  int hops = 0;                   // links along any one path
  double paths = 1;               // distinct equal-cost paths
  Seconds latency = 0;            // share-weighted: the mean over the paths
  BytesPerSecond bottleneck = 0;  // min over links of bandwidth / share (0: no links)
  std::vector<VertexId> top;      // fabric segments: the switches at the segment's top tier, sorted
};

// A route as a handful of pointers into the Router's caches; valid while the Router lives.
class Route {
 public:
  static constexpr int kMaxSegments = 6;
  void append(const RouteSegment* segment) { segments_[count_++] = segment; }
  std::span<const RouteSegment* const> segments() const { return {segments_.data(), count_}; }
  int hops() const;
  double paths() const { return paths_; }
  void set_paths(double paths) { paths_ = paths; }
  Seconds latency() const;
  // The rate one message alone could reach: the tightest link relative to the share it carries.
  BytesPerSecond bottleneck() const;
  template <class Visit>
  void for_each_link(Visit&& visit) const {
    for (std::size_t i = 0; i < count_; ++i)
      for (const auto& hop : segments_[i]->links) visit(hop.link, hop.share);
  }

 private:
  std::array<const RouteSegment*, kMaxSegments> segments_{};
  std::size_t count_ = 0;
  double paths_ = 1;
};

class Router {
 public:
  explicit Router(const ClusterGraph& graph, RouteOptions options = {});

  // Between GPU ranks (ClusterGraph::gpus() order). Throws std::runtime_error when the graph has
  // no way from one to the other (a validated topology always has one).
  Route route(int source_rank, int destination_rank);
  const ClusterGraph& graph() const { return graph_; }
  const RouteOptions& options() const { return options_; }

  // The GPU -> NIC -> leaf segment, or nullptr when the GPU has no NIC on a fabric.
  const RouteSegment* uplink(int rank);
  // Cached segments, for benchmarks and memory reports.
  std::size_t cached_segments() const;
  std::size_t memory_bytes() const;

 private:
  const RouteSegment& intra_domain(int source_rank, int destination_rank);
  const RouteSegment* downlink(int rank);
  const RouteSegment& fabric_up(VertexId leaf, int tier);
  const RouteSegment& fabric_down(VertexId leaf, int tier);
  std::optional<RouteSegment> nic_segment(int rank, bool up) const;
  const RouteSegment* cached_nic_segment(std::vector<std::unique_ptr<RouteSegment>>& cache,
                                         int rank, bool up);
  VertexId nic_of(int rank) const;
  VertexId leaf_of(int rank) const;

  const ClusterGraph& graph_;
  RouteOptions options_;
  std::vector<VertexId> nic_;                             // by rank; kNoVertex without a NIC
  std::vector<VertexId> leaf_;                            // by rank; kNoVertex without a fabric
  std::vector<std::vector<int>> rail_peer_;               // [node][rail] -> a GPU rank on that rail
  std::vector<std::unique_ptr<RouteSegment>> up_, down_;  // by rank
  std::unordered_map<std::uint64_t, std::unique_ptr<RouteSegment>> intra_;
  // Fabric segments by vertex * kFabricTiers + tier: a flat table, no hashing on the hot path.
  static constexpr std::size_t kFabricTiers = 3;
  std::vector<std::unique_ptr<RouteSegment>> fabric_up_, fabric_down_;
  // Leaves whose spine sets are equal share a group; where two groups meet is memoised, so a
  // query never compares switch sets after the first of its class.
  int spine_group(VertexId leaf, bool downward);
  int meeting_tier(VertexId from_leaf, VertexId to_leaf);
  std::vector<int> up_group_, down_group_;  // by vertex; -1 until known
  std::map<std::vector<VertexId>, int> groups_;
  std::unordered_map<std::uint64_t, int> meeting_;
};

}  // namespace moesim::topology
