#pragma once
// Graphviz DOT of a cluster graph: nodes as clusters, a cable's two directions as one edge when
// their figures match.
#include <string>

#include "topology/cluster_graph.hpp"

namespace moesim::topology {

std::string to_dot(const ClusterGraph& graph);

}  // namespace moesim::topology
