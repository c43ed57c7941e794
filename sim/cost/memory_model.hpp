#pragma once
// Bytes each GPU must hold: weights by placement and parallelism, optimizer state for training, KV
// cache for inference, activations.
#include <string>

#include "sim/spec/scenario.hpp"

namespace moesim::sim {

struct MemoryBreakdown {  // bytes per GPU
  double weights = 0;
  double gradients = 0;  // training: bf16, sharded from ZeRO stage 2
  double optimizer = 0;  // training: fp32 master weights and two Adam moments
  double kv_cache = 0;
  double activations = 0;
  double total() const { return weights + gradients + optimizer + kv_cache + activations; }
};

// Parameters one GPU of a pipeline stage holds: the replicated part (attention, dense MLPs,
// shared experts, routers, the stage's embedding or LM head) split by attention TP, and its
// expert slots split by MoE TP.
struct StageParams {
  double dense = 0;
  double experts = 0;
};
StageParams stage_params(const ScenarioSpec& scenario, int stage);

// The pipeline stage that holds the most bytes per GPU (stage 0 when there is no pipeline).
MemoryBreakdown memory_per_gpu(const ScenarioSpec& scenario);

// Whether a scenario's memory fits its device, as a value: `plan` rejects a candidate with it
// without an exception. `shortfall` names each part against the device's capacity.
struct MemoryFit {
  MemoryBreakdown memory;
  std::string shortfall;  // empty when it fits
  bool fits() const { return shortfall.empty(); }
};
MemoryFit check_memory_fit(const ScenarioSpec& scenario);

// Throws ConfigError naming each part when the scenario needs more than the device holds: such a
// scenario is reported as not fitting, never simulated.
MemoryBreakdown ensure_fits(const ScenarioSpec& scenario);

}  // namespace moesim::sim
