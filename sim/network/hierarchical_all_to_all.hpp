#pragma once
// Hierarchical (DeepEP normal) dispatch played over flow classes. Every GPU of a scale-up domain
// sends the same mix (the traffic plan has one row per source domain), so its flows repeat:
// - the fabric legs from one node to another are one per rail, with the same bytes: a class
//   anchored at the (source node, destination node);
// - the NVLink legs into a GPU, straight from its node's GPUs or forwarded by its node's relays,
//   carry the same bytes from each: a class per (destination GPU, leg kind).
// Members must also share their rate alone (the tightest link of the route relative to its
// share), so a slower NIC keeps its own class. On 256 GPUs in nodes of 8 a collective's 11,520
// flows (1,792 local, 7,936 fabric, 1,792 forwarded) form at most 256 + 256 + 32 x 31 = 1,504
// classes when each node's GPUs send alike. As in flow_classes.hpp, rates are tied within a class
// and its latency is the members' mean, exact when the members are interchangeable; the class plan
// (summed paths, link groups) is kept for the next collective with the same partition.
#include <cstdint>
#include <vector>

#include "sim/network/flow_classes.hpp"
#include "sim/network/hierarchical_legs.hpp"
#include "sim/network/link_groups.hpp"

namespace moesim::sim {

class HierarchicalAllToAll {
 public:
  // simulate_all_to_all under options.hierarchical, one flow per class. `links` may be link
  // groups (the path lookup then gives grouped paths). `flows` in the result counts classes.
  // Throws std::invalid_argument as simulate_all_to_all does. Not thread-safe.
  AllToAllResult play(const ByteMatrix& bytes, const PathLookup& path, const NetworkLinks& links,
                      const AllToAllOptions& options);
  std::size_t plans_made() const { return plans_made_; }

 private:
  struct Plan {
    std::vector<std::uint64_t> endpoints;             // by leg flow: kind, source and destination
    std::vector<std::uint32_t> class_of;              // by leg flow
    std::vector<std::vector<std::uint32_t>> members;  // by class: leg flows
    std::vector<char> inside;                         // by leg flow: route off the fabric
    CrossedGroups network;  // the class paths over link groups, as the flow network sees them
  };
  const Plan& plan_for(const HierarchicalLegs& legs, std::vector<std::uint32_t> class_of,
                       const PathLookup& path, const NetworkLinks& links);

  std::vector<Plan> plans_;  // oldest first, a few at most
  std::size_t plans_made_ = 0;
};

// Which class each leg flow falls in (numbered in the order of their first flow), by the rules
// above; `capacity` by link, for the rates alone.
std::vector<std::uint32_t> hierarchical_classes(const HierarchicalLegs& legs,
                                                const PathLookup& path,
                                                const std::vector<BytesPerSecond>& capacity,
                                                std::size_t gpus, int gpus_per_node);

}  // namespace moesim::sim
