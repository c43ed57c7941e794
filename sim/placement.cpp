#include "sim/placement.hpp"

#include <algorithm>

namespace moesim::sim {

Placement make_placement(const PlacementSpec& spec, int experts, int gpus,
                         const std::vector<double>& expert_load) {
  Placement p;
  p.gpus = gpus;
  p.slots.assign(gpus, {});
  p.replicas.assign(experts, {});
  const int per_gpu = experts / gpus;  // scenario validation guarantees slots divide evenly
  for (int e = 0; e < experts; ++e) {
    const int gpu = spec.strategy == "round-robin" ? e % gpus : std::min(gpus - 1, e / std::max(1, per_gpu));
    p.slots[gpu].push_back(e);
    p.replicas[e].push_back(gpu);
  }
  if (spec.redundant_experts == 0) return p;
  const int slots_per_gpu = (experts + spec.redundant_experts) / gpus;
  for (int r = 0; r < spec.redundant_experts; ++r) {
    int hottest = 0;
    for (int e = 1; e < experts; ++e) {
      const double per_replica = expert_load[e] / static_cast<double>(p.replicas[e].size());
      if (per_replica > expert_load[hottest] / static_cast<double>(p.replicas[hottest].size()))
        hottest = e;
    }
    const auto loads = gpu_loads(p, expert_load);
    int target = -1;
    for (int g = 0; g < gpus; ++g) {
      const bool has_room = static_cast<int>(p.slots[g].size()) < slots_per_gpu;
      const bool lacks = std::find(p.slots[g].begin(), p.slots[g].end(), hottest) == p.slots[g].end();
      if (has_room && lacks && (target < 0 || loads[g] < loads[target])) target = g;
    }
    if (target < 0) break;  // every GPU with room already holds it
    p.slots[target].push_back(hottest);
    p.replicas[hottest].push_back(target);
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
