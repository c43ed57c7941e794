#pragma once
// Bandwidth questions asked of a cluster graph: what one GPU can inject, what crosses the narrowest
// cut between two halves, and which link limits a traffic matrix.
#include <span>
#include <string>
#include <vector>

#include "topology/cluster_graph.hpp"
#include "topology/routes.hpp"

namespace moesim::topology {

struct InjectionBandwidth {
  BytesPerSecond scale_up = 0;   // sum of the GPU's NVLink / Infinity Fabric links, one direction
  BytesPerSecond scale_out = 0;  // its path GPU -> NIC -> leaf; 0 without a fabric
};
InjectionBandwidth injection_bandwidth(Router& router, int rank);

struct Bisection {
  BytesPerSecond bandwidth = 0;  // one direction, first half to second half
  std::string split;             // which split was narrowest: "nodes", "rails" or "gpus"
};
// The narrowest of the natural balanced splits, each measured as a maximum flow (= minimum cut):
// with a fabric, the scale-out network between the NICs of the first and second half of the nodes,
// and between the lower and upper half of the rails; without one, between the first and second
// half of the GPUs over everything in between.
Bisection bisection_bandwidth(const ClusterGraph& graph);

// Bytes sent from ranks[i] to ranks[j] is matrix[i * ranks.size() + j].
struct TrafficMatrix {
  std::vector<int> ranks;
  std::vector<Bytes> bytes;
  static TrafficMatrix uniform_all_to_all(std::vector<int> ranks, Bytes bytes_per_pair);
};

struct LinkLoad {
  LinkId link = 0;
  Bytes bytes = 0;
  Seconds busy = 0;  // bytes / bandwidth: how long the link needs for its load
};
// Bytes on every link when each message follows its route (index = LinkId).
std::vector<Bytes> link_loads(Router& router, const TrafficMatrix& traffic);
// The most loaded link relative to its capacity (the first of equals, by link index).
LinkLoad bottleneck(Router& router, const TrafficMatrix& traffic);

}  // namespace moesim::topology
