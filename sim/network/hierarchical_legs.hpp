#pragma once
// The flows of a hierarchical (DeepEP normal) all-to-all, before any is played: a GPU's bytes for
// its own node go straight over NVLink; bytes for another node cross the fabric once to the relay
// there on the sender's rail, which forwards them over NVLink (docs/network-model.md). Both the
// pair-by-pair play (all_to_all.cpp) and the classed one (hierarchical_all_to_all.hpp) start
// from this list, so they play the same flows in the same order.
#include <cstdint>
#include <functional>
#include <vector>

#include "sim/network/all_to_all.hpp"

namespace moesim::sim {

enum class LegKind : std::uint8_t {
  Local,    // source to a GPU of its own node, over NVLink
  Fabric,   // source to the relay on another node (same rail), over the fabric
  Forward,  // relay to a GPU of its node, carrying every source's bytes that came through it
};

struct LegFlow {
  LegKind kind = LegKind::Local;
  int source = 0;       // the GPU sending this flow (a relay for Forward)
  int destination = 0;  // the GPU receiving it (the relay for Fabric)
  Bytes bytes = 0;
  SimTime wait;  // before the route's latency: a forward starts once the first chunk arrives
};

// A GPU pair of the matrix waiting on a flow: the pair is done when all its flows are.
struct PairWait {
  int source = 0;
  int destination = 0;
  std::uint32_t flow = 0;  // index into HierarchicalLegs::flows
};

struct HierarchicalLegs {
  std::vector<LegFlow> flows;  // in the order they join the network
  std::vector<PairWait> waits;
};

// Throws std::invalid_argument for a matrix that is not square or has negative or non-finite
// entries, hierarchical options that do not fit the matrix, or a negative fixed cost (what
// simulate_all_to_all checks; defined beside it in all_to_all.cpp).
void validate_all_to_all(const ByteMatrix& bytes, const AllToAllOptions& options);

// The flows of `bytes` under options.hierarchical (options.gpus_per_node, options.node_bytes);
// `latency(s, d)` is the route latency between two GPUs (a forward waits for the slowest fabric
// leg feeding it). The caller validates the matrix and options (simulate_all_to_all does).
HierarchicalLegs hierarchical_legs(const ByteMatrix& bytes, const AllToAllOptions& options,
                                   const std::function<SimTime(int, int)>& latency);

}  // namespace moesim::sim
