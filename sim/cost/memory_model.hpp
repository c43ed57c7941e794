#pragma once
// Bytes each GPU must hold: weights by placement and parallelism, optimizer state for training, KV
// cache for inference, activations.
#include <string>

#include "sim/spec/scenario.hpp"

namespace moesim::sim {

struct MemoryBreakdown {  // bytes per GPU
  double weights = 0;
  double optimizer = 0;
  double kv_cache = 0;
  double activations = 0;
  double total() const { return weights + optimizer + kv_cache + activations; }
};

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
