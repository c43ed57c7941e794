#include "sim/run/batch_variation.hpp"

namespace moesim::sim {

LoadVariation scenario_load_variation(const ScenarioSpec& s, const SimulationOverrides& o) {
  const bool generator = o.expert_popularity.empty() && o.routing_outcomes.empty();
  const bool uncapped = s.policy.capacity_factor <= 0 && !s.policy.pad_to_capacity &&
                        s.policy.routing == RoutingMode::TokenChoice;
  if (!generator || !uncapped) return {};
  return {s.workload.routing.batch_load_sigma, s.workload.routing.sampling_noise,
          static_cast<double>(s.parallelism.moe_tensor_parallel)};
}

std::vector<BusiestBatch> busiest_batches(const LoadVariation& variation,
                                          const std::vector<std::vector<double>>& loads,
                                          const std::vector<Placement>& placements) {
  std::vector<BusiestBatch> batches;
  batches.reserve(loads.size());
  for (std::size_t layer = 0; layer < loads.size(); ++layer) {
    const bool same_as_previous = layer > 0 && loads[layer] == loads[layer - 1] &&
                                  placements[layer].slots == placements[layer - 1].slots;
    batches.push_back(same_as_previous ? batches.back()
                                       : busiest_batch(placements[layer], loads[layer], variation));
  }
  return batches;
}

}  // namespace moesim::sim
