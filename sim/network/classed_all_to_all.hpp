#pragma once
// Flow classes (flow_classes.hpp) reused across the collectives of a run. A class's summed path,
// mean latency and the link groups over the class paths depend only on which pairs form each
// class, and a MoE layer's dispatch forms the same classes as the layer before it (the traffic
// plan repeats its shape; only the bytes change). So each partition of the pairs is planned once
// and every later collective with the same partition plays its flows on the stored plan; each
// pair's rate alone is kept per set of link capacities. The results are those of a fresh
// simulate_classed_all_to_all, bit for bit (tests/sim/network/classed_all_to_all_test.cpp).
#include <cstdint>
#include <vector>

#include "sim/network/flow_classes.hpp"
#include "sim/network/link_groups.hpp"

namespace moesim::sim {

class ClassedAllToAll {
 public:
  // As simulate_classed_all_to_all. Every call must pass the same routes (`path`) over the same
  // links (their capacities may differ). Not thread-safe: one instance per simulation.
  AllToAllResult play(const ByteMatrix& bytes, const PathLookup& path, const NetworkLinks& links,
                      const AllToAllOptions& options);
  // Partitions planned so far (a measure of reuse, for tests).
  std::size_t plans_made() const { return plans_made_; }

 private:
  struct Plan {
    PairPartition partition;
    std::vector<FlowClass> classes;
    // By class: its members' distinct sources and destinations (one side is a single GPU, the
    // anchor, so the result's per-GPU maxima cost a pass over members, not two), and how many
    // members route off the fabric.
    std::vector<std::vector<int>> sources, destinations;
    std::vector<std::size_t> members_inside;
    CrossedGroups network;  // the class paths over link groups, as the flow network sees them
  };
  struct AloneRates {
    std::vector<BytesPerSecond> capacity;
    std::vector<double> alone;
  };
  const std::vector<double>& alone_for(std::size_t gpus, const PathLookup& path,
                                       const std::vector<BytesPerSecond>& capacity);
  const Plan& plan_for(PairPartition partition, const ByteMatrix& bytes, const PathLookup& path,
                       const NetworkLinks& links, std::size_t link_count);

  std::vector<AloneRates> alone_;  // oldest first, a few at most
  std::vector<Plan> plans_;        // oldest first, a few at most
  std::size_t plans_made_ = 0;
};

}  // namespace moesim::sim
