#pragma once
// Which MoE layers are priced at their busiest batch (routing/load_variation.hpp) and the batch
// each is priced at: a generator's expected loads under the scenario's batch-to-batch variation.
#include <vector>

#include "sim/routing/load_variation.hpp"
#include "sim/run/inputs.hpp"

namespace moesim::sim {

// The scenario's variation, or none (inactive) where it does not apply: a replayed trace carries
// its own batches' variation; a capacity (or padding, or expert choice) bounds each expert's rows
// whatever the batch, so the variation there would be drops, which expected loads do not play.
LoadVariation scenario_load_variation(const ScenarioSpec& scenario,
                                      const SimulationOverrides& overrides);

// Per MoE layer: the batch its step is priced at. Layers with the same loads and placement (every
// layer of a uniform generator) share one computation.
std::vector<BusiestBatch> busiest_batches(const LoadVariation& variation,
                                          const std::vector<std::vector<double>>& loads,
                                          const std::vector<Placement>& placements);

}  // namespace moesim::sim
