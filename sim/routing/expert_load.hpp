#pragma once
// Expected tokens per expert for each MoE layer from a routing generator (the day-one stand-in for
// replaying a recorded trace).
#include <cstdint>
#include <vector>

#include "sim/spec/scenario.hpp"

namespace moesim::sim {

// Expert popularity from the generator: uniform, or Zipf(s) over a per-layer shuffled ranking.
std::vector<double> expert_popularity(const RoutingSpec& routing, int experts, int layer);

// Expected load with top-k chosen without replacement: no expert can receive more than one copy of
// a token, so load_e = min(tokens, lambda * p_e) with lambda set so the loads sum to tokens * k.
std::vector<double> expected_expert_load(const std::vector<double>& popularity, double tokens,
                                         int top_k);

}  // namespace moesim::sim
