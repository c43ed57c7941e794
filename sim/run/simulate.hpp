#pragma once
// One step of a scenario, layer by layer: the entry point the CLI, GUI, check and plan call.
#include <functional>
#include <vector>

#include "sim/placement/placement.hpp"
#include "sim/run/run_result.hpp"
#include "sim/routing/policy.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {

// Called with (layers done, layers in all) so long runs can show progress.
using ProgressCallback = std::function<void(int, int)>;

// What a run may take instead of the scenario's generator and placement strategy: expert loads
// replayed from a trace, and placements edited by hand (the GUI) or computed by a strategy.
struct SimulationOverrides {
  // Per MoE layer: the share of routed token copies each logical expert receives (any scale; each
  // layer is normalised). Empty: the scenario's routing generator.
  std::vector<std::vector<double>> expert_popularity;
  // Per MoE layer: the EP group's placement. Empty: the scenario's placement strategy.
  std::vector<Placement> placements;
  // Per MoE layer: the capacity policy already applied to recorded tokens (trace_policy.hpp), any
  // number of them; scaled to the scenario's tokens. Empty: the policy on the expected loads.
  std::vector<RoutingOutcome> routing_outcomes;
};

// Per MoE layer: expected tokens per logical expert over one EP group and micro-batch.
std::vector<std::vector<double>> expert_loads(const ScenarioSpec& scenario,
                                              const SimulationOverrides& overrides = {});
// Per MoE layer: the placement the scenario's strategy produces for those loads.
std::vector<Placement> scenario_placements(const ScenarioSpec& scenario,
                                           const std::vector<std::vector<double>>& loads);

// Throws ConfigError when the scenario does not fit in device memory: it is reported as not
// fitting, never simulated; and when overrides do not match the model (layers, experts, GPUs).
Report simulate(const ScenarioSpec& scenario, const ProgressCallback& progress = {},
                const SimulationOverrides& overrides = {});

}  // namespace moesim::sim
