#pragma once
// A disaggregated serving plan's options: every sized shape's prefill pool with every sized
// shape's decode pool, per batch limit (serving_pool_pairs.hpp; docs/plan.md, "Prefill and decode
// shapes").
#include <vector>

#include "sim/plan/plan.hpp"
#include "sim/plan/serving_plan.hpp"
#include "sim/serving/serving_run.hpp"

namespace moesim::sim {

// `sized`: one outcome per shape and batch limit, `capacities` beside them. The decode shape's
// outcome gives the pair its curve and TPOT floor, the prefill shape's its TTFT floor. Shapes
// refused while sizing stay listed as they are.
std::vector<ServingPlanOutcome> cross_pool_shapes(const PlanSpec& plan,
                                                  const std::vector<ServingPlanOutcome>& sized,
                                                  const std::vector<PoolCapacity>& capacities,
                                                  double rate);

}  // namespace moesim::sim
