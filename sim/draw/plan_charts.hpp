#pragma once
// The plan's chart (plan.svg), drawn with cairo: tokens/s per GPU against tokens/s per user for
// every candidate that fits, the Pareto front joined in red; for a serving plan, each
// deployment's curve over its batch limits and the chosen option ringed.
#include <vector>

#include "sim/draw/scatter_chart.hpp"
#include "sim/plan/plan.hpp"
#include "sim/plan/serving_plan.hpp"

namespace moesim::sim {

ScatterChart plan_chart(const PlanSpec& plan, const std::vector<PlanOutcome>& outcomes);
ScatterChart serving_plan_chart(const PlanSpec& plan, const ServingPlanResult& result);

}  // namespace moesim::sim
