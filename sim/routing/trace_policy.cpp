#include "sim/routing/trace_policy.hpp"

#include <algorithm>
#include <cmath>
#include <span>

namespace moesim::sim {

std::vector<RoutingOutcome> trace_routing_outcomes(RoutingSource& source, const ScenarioSpec& s,
                                                   const std::vector<Placement>& placements,
                                                   const std::string& trace_name) {
  if (source.counts() != nullptr || s.policy.routing == RoutingMode::ExpertChoice) return {};
  const TraceShape shape = source.shape();
  if (shape.layers == 0) return {};
  const auto model_layers = static_cast<std::uint32_t>(placements.size());
  const int ep = s.parallelism.expert_parallel;
  const auto k = static_cast<std::size_t>(shape.top_k);
  // Capacity is per batch, so batches the size the scenario plays give its drop rates.
  const double group_tokens = static_cast<double>(s.workload.tokens_per_gpu) /
                              s.parallelism.attention_tensor_parallel /
                              s.parallelism.micro_batches * ep;
  const auto batch = static_cast<std::size_t>(std::max(1.0, std::floor(group_tokens)));

  std::vector<RoutingOutcome> per_trace_layer(shape.layers);
  TraceBlock block;
  while (source.next(block)) {
    if (block.layer >= model_layers) continue;  // a tiled trace's layers beyond the model go unused
    const std::span<const std::uint32_t> ids(block.expert_ids);
    const std::span<const float> scores(block.scores);
    for (std::size_t first = 0; first < block.tokens; first += batch) {
      const std::size_t count = std::min<std::size_t>(batch, block.tokens - first);
      TokenRouting routing{.experts = static_cast<int>(shape.experts),
                           .top_k = static_cast<int>(k),
                           .ranks = ep,
                           .expert_ids = ids.subspan(first * k, count * k),
                           .scores = scores.empty() ? scores : scores.subspan(first * k, count * k),
                           .source = trace_name};
      add_outcome(per_trace_layer[block.layer],
                  apply_policy_tokens(s.policy, placements[block.layer], routing));
    }
  }
  std::vector<RoutingOutcome> outcomes(model_layers);
  for (std::uint32_t l = 0; l < model_layers; ++l) outcomes[l] = per_trace_layer[l % shape.layers];
  return outcomes;
}

}  // namespace moesim::sim
