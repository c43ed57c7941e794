#pragma once
// Bytes each GPU must hold: weights by placement and parallelism, optimizer state for training, KV
// cache for inference, activations.
#include "sim/report.hpp"
#include "sim/scenario.hpp"

namespace moesim::sim {

MemoryBreakdown memory_per_gpu(const ScenarioSpec& scenario, int expert_slots_per_gpu);

}  // namespace moesim::sim
