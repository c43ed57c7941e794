#pragma once
// A calibrated profile's phase curves (sim/cost/phase_curves.hpp) put into a layer's cost.
#include <vector>

#include "sim/cost/layer_cost_model.hpp"
#include "sim/cost/phase_curves.hpp"

namespace moesim::sim {

// Replaces the phases of `cost` the curves price, from the layer's tokens per GPU and each GPU's
// tokens per local expert.
void apply_calibrated_phases(const CalibratedPhases& phases, const ModelSpec& model,
                             double tokens_per_gpu,
                             const std::vector<std::vector<double>>& local_tokens, LayerCost& cost);

}  // namespace moesim::sim
