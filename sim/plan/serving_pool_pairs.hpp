#pragma once
// A disaggregated serving plan crosses deployment shapes: the prefill pool and the decode pool
// each take any shape of the grid (cluster, nodes, EP, attention TP, ...), each pool sized alone
// to carry the traffic (docs/plan.md, "Prefill and decode shapes").
#include <cstddef>
#include <string>
#include <vector>

namespace moesim::sim {

// One shape of the grid at one batch limit, sized for the traffic: what one instance carries in
// each role.
struct PoolShape {
  int candidate = 0;  // index into PlanSpec::candidates
  int gpus_per_instance = 0;
  double usd_per_gpu_hour = 0;
  double prefill_requests_per_s = 0;  // an instance doing only prefill
  double decode_requests_per_s = 0;   // an instance doing only decode
};

// A prefill shape and a decode shape (indices into the shapes given), each pool's instances at the
// plan's utilisation target, and what they cost together: a lower bound, as an SLA can only ask
// for more instances.
struct PoolPair {
  std::size_t prefill = 0, decode = 0;
  int prefill_instances = 0, decode_instances = 0;
  int gpus = 0;
  double usd_per_hour = 0;
};

// Every shape paired with itself, and every prefill shape with every other decode shape. Past
// `max_pairs` pairs, the crossing keeps to the cheapest shapes of each role (by that pool's own
// $/hour; ties by index), as many as keep it within `max_pairs`; a shape is always paired with
// itself. Pairs come prefill-major, in the shapes' order.
std::vector<PoolPair> pair_pool_shapes(const std::vector<PoolShape>& shapes, double rate,
                                       std::size_t max_pairs);

// Pairs the plan crosses at most, per batch limit, beyond each shape's own (docs/limits.md): each
// pair is a row of plan.json, a few kB with its two scenarios.
inline constexpr std::size_t kMaxPoolPairs = 1024;

}  // namespace moesim::sim
