#include "sim/placement/placement.hpp"

#include <algorithm>

namespace moesim::sim {

Placement make_placement(const PlacementSpec& spec, int experts, int gpus,
                         const std::vector<double>& expert_load) {
  Placement p;
  p.gpus = gpus;
  p.slots.assign(gpus, {});
  p.replicas.assign(experts, {});
  // With redundant slots the experts need not divide the GPUs: contiguous runs then differ in
  // length by at most one expert, and the redundant slots even the counts out.
  for (int e = 0; e < experts; ++e) {
    const int gpu = spec.strategy == PlacementStrategy::RoundRobin
                        ? e % gpus
                        : static_cast<int>(static_cast<long long>(e) * gpus / experts);
    p.slots[gpu].push_back(e);
    p.replicas[e].push_back(gpu);
  }
  if (spec.redundant_experts == 0) return p;
  const int slots_per_gpu = (experts + spec.redundant_experts) / gpus;
  for (int r = 0; r < spec.redundant_experts; ++r) {
    // Hottest load per replica first; the first expert that some GPU with room lacks gets the slot.
    std::vector<int> order(experts);
    for (int e = 0; e < experts; ++e) order[e] = e;
    auto per_replica = [&](int e) {
      return expert_load[e] / static_cast<double>(p.replicas[e].size());
    };
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return per_replica(a) > per_replica(b); });
    const auto loads = gpu_loads(p, expert_load);
    bool placed = false;
    for (int expert : order) {
      int target = -1;
      for (int g = 0; g < gpus; ++g) {
        const bool has_room = static_cast<int>(p.slots[g].size()) < slots_per_gpu;
        const bool lacks =
            std::find(p.slots[g].begin(), p.slots[g].end(), expert) == p.slots[g].end();
        if (has_room && lacks && (target < 0 || loads[g] < loads[target])) target = g;
      }
      if (target < 0) continue;
      p.slots[target].push_back(expert);
      p.replicas[expert].push_back(target);
      placed = true;
      break;
    }
    if (!placed) break;  // every GPU with room already holds every expert
  }
  return p;
}

std::vector<double> gpu_loads(const Placement& placement, const std::vector<double>& expert_load) {
  std::vector<double> loads(placement.gpus, 0.0);
  for (std::size_t e = 0; e < placement.replicas.size(); ++e)
    for (int gpu : placement.replicas[e])
      loads[gpu] += expert_load[e] / static_cast<double>(placement.replicas[e].size());
  return loads;
}

}  // namespace moesim::sim
