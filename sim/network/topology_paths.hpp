#pragma once
// The topology library's routes as the all-to-all's path function: a route's links with the
// share of the bytes each carries (ECMP splits) and its latency, and the graph's links with
// their line rates and kinds.
#include "sim/network/all_to_all.hpp"
#include "topology/cluster_graph.hpp"
#include "topology/routes.hpp"

namespace moesim::sim {

// Capacity and kind of every link of the graph, by topology::LinkId.
NetworkLinks network_links(const topology::ClusterGraph& graph);

// The path between two GPU ranks: every link the route crosses with its share; latency from
// the route (share-weighted over equal-cost paths), rounded to the nanosecond.
RoutedPath routed_path(topology::Router& router, int source_rank, int destination_rank);

// A path function over a router, which must outlive it. Not thread-safe (nor is the Router).
PathFunction router_paths(topology::Router& router);

}  // namespace moesim::sim
