#pragma once
// The edge of a run: every input resolved once, before anything is simulated. The scenario's
// profile is loaded and checked against its model; a trace is opened once and read for its expert
// popularity, the placements made from it and, for per-token traces, the policy applied to its
// tokens. simulate() (simulate.hpp) then does no I/O.
#include <optional>
#include <string>
#include <vector>

#include "sim/cost/measured_profile.hpp"
#include "sim/placement/placement.hpp"
#include "sim/routing/policy.hpp"
#include "sim/routing/trace_replay.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {

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

struct RunInputs {
  ScenarioSpec scenario;
  std::optional<MeasuredProfile> profile;  // nullopt: priced from the device's roofline
  SimulationOverrides overrides;
};

// The profile file or built-in the scenario names; a bad file is reported at the scenario's field
// that names it (ProfileSpec::field), its own message kept inside. Throws ConfigError.
MeasuredProfile load_named_profile(const ScenarioSpec& scenario);
// "auto": the profile shipped for the scenario's device when it measured the model, else none.
// A named profile (built-in or file) must hold the model. Throws ConfigError otherwise.
std::optional<MeasuredProfile> resolve_profile(const ScenarioSpec& scenario);
// What `moesim validate` checks of a scenario past parsing, as run would meet it: it fits in
// memory, and the files it names (profile, placement file) load and fit it. Throws ConfigError.
void check_scenario_inputs(const ScenarioSpec& scenario);
// The scenario with its profile resolved; throws ConfigError when the overrides do not match the
// model (layers, experts, GPUs).
RunInputs resolve_inputs(ScenarioSpec scenario, SimulationOverrides overrides = {});
// What `moesim run --trace` and `moesim check --trace` replay: the trace (opened once) gives the
// expert popularity, the placements the scenario's strategy makes of it, and, for per-token traces,
// the policy's outcome on the recorded tokens. Throws ConfigError when it does not match the model.
SimulationOverrides trace_overrides(const std::string& path, const ScenarioSpec& scenario,
                                    const TraceReplayOptions& options);

// Tokens one GPU feeds into each MoE layer per micro-batch (TP ranks split a DP rank's tokens).
double tokens_per_gpu_per_micro_batch(const ScenarioSpec& scenario);
// Per MoE layer: expected tokens per logical expert over one EP group and micro-batch.
std::vector<std::vector<double>> expert_loads(const ScenarioSpec& scenario,
                                              const SimulationOverrides& overrides = {});
// Per MoE layer: the placement the scenario's strategy produces for those loads.
std::vector<Placement> scenario_placements(const ScenarioSpec& scenario,
                                           const std::vector<std::vector<double>>& loads);
// Throws ConfigError naming each override that does not match the scenario's model and EP size.
void check_overrides(const ScenarioSpec& scenario, const SimulationOverrides& overrides);

}  // namespace moesim::sim
