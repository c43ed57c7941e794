#pragma once
// A topology file's route check: the Router must be able to build a route between every GPU pair.
// Within a scale-up domain that is answered by reachability sets shared between GPUs with the same
// way in (near-linear in the links for a switch), not by routing all N^2 pairs (N^3 in all).
#include <cstddef>
#include <span>

#include "base/config_error.hpp"
#include "topology/cluster_graph.hpp"

namespace moesim::topology {

// Adds a problem under /vertices/i (the GPU's entry) for each GPU that has no route to some GPU;
// at most 20 problems. `vertex_entry[v]` is vertex v's index in the file's "vertices".
void check_routes(const ClusterGraph& graph, std::span<const std::size_t> vertex_entry,
                  ProblemList& problems);

}  // namespace moesim::topology
