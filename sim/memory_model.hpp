#pragma once
// Bytes each GPU must hold: weights by placement and parallelism, optimizer state for training, KV
// cache for inference, activations.
#include "sim/report.hpp"
#include "sim/scenario.hpp"

namespace moesim::sim {

MemoryBreakdown memory_per_gpu(const ScenarioSpec& scenario);

// Throws ConfigError naming each part when the scenario needs more than the device holds: such a
// scenario is reported as not fitting, never simulated.
MemoryBreakdown ensure_fits(const ScenarioSpec& scenario);

}  // namespace moesim::sim
