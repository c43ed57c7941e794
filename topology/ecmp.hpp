#pragma once
// Equal-cost multi-path splits on the cluster graph: the building blocks of routes.hpp.
#include <functional>
#include <optional>

#include "topology/routes.hpp"

namespace moesim::topology {

using VertexFilter = std::function<bool(VertexId)>;
using LinkFilter = std::function<bool(const LinkInfo&)>;

// One unit of traffic from `from` to `to` over the fewest hops, through vertices `transit` admits
// and links `usable` admits, split evenly among the next hops at every vertex (how per-hop ECMP
// hashing spreads many flows). nullopt when `to` cannot be reached that way.
std::optional<RouteSegment> ecmp_segment(const ClusterGraph& graph, VertexId from, VertexId to,
                                         const VertexFilter& transit, const LinkFilter& usable);

// Up from `leaf` to the switches of fabric tier `tier` (leaf 0, spine 1, core 2), splitting evenly
// over the uplinks at each hop; `downward` gives the mirror image: from tier `tier` down to `leaf`,
// as the even split of traffic arriving at the leaf over its downlinks from above.
RouteSegment fabric_climb(const ClusterGraph& graph, VertexId leaf, int tier, bool downward);

// Fills hops-independent summaries: latency and bottleneck, from `links`.
void summarise_segment(const ClusterGraph& graph, RouteSegment& segment);

// Joins two segments into one (for cached compositions).
RouteSegment concatenate(const ClusterGraph& graph, const RouteSegment& first,
                         const RouteSegment& second);

}  // namespace moesim::topology
