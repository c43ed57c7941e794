#pragma once
// What a serving step adds to its blocks: the LM head and sampling, MTP drafts and the launch
// floor (training keeps its own accounting, training_step.hpp).
#include "sim/cost/layer_cost_model.hpp"
#include "sim/run/run_result.hpp"

namespace moesim::sim {

// Adds them to the report's extras and its step time (the layers already played).
void add_step_extras(const ScenarioSpec& scenario, const LayerCostModel& model, Report& r);

}  // namespace moesim::sim
