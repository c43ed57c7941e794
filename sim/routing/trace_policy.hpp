#pragma once
// The scenario's capacity policy on a trace's own tokens: for traces that record each token's
// experts (binary traces, NumPy id arrays, per-token CSV), drops and unrouted tokens are counted
// copy by copy in the order the policy names, not estimated from expected loads.
#include <string>
#include <vector>

#include "sim/placement/placement.hpp"
#include "sim/routing/policy.hpp"
#include "sim/routing/trace_replay.hpp"
#include "sim/spec/scenario.hpp"
#include "sim/traces/import.hpp"

namespace moesim::sim {

// Per MoE layer of the scenario's model: the policy's outcome summed over every recorded step.
// Each block is cut into batches of the scenario's tokens per EP group and micro-batch (a shorter
// block, or the remainder, is a batch of its own with its own capacity), and a batch's tokens are
// split evenly over the EP ranks in token order. A trace with fewer layers than the model tiles
// them, as trace_expert_popularity does. Empty when the source holds counts only, or under expert
// choice (a trace has no score for every expert): the simulator then uses the count path.
// Throws ConfigError naming `trace_name` for drop "probs" on a trace without scores.
std::vector<RoutingOutcome> trace_routing_outcomes(RoutingSource& source,
                                                   const ScenarioSpec& scenario,
                                                   const std::vector<Placement>& placements,
                                                   const std::string& trace_name);

}  // namespace moesim::sim
