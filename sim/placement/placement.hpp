#pragma once
// Logical experts onto the physical slots of the EP group's GPUs, with replicas of hot experts.
#include <vector>

#include "sim/spec/scenario.hpp"

namespace moesim::sim {

struct Placement {
  int gpus = 0;
  // slots[g] = the logical experts GPU g holds (a replicated expert appears on several GPUs).
  std::vector<std::vector<int>> slots;
  // replicas[e] = the GPUs holding expert e.
  std::vector<std::vector<int>> replicas;
  int slots_per_gpu() const { return slots.empty() ? 0 : static_cast<int>(slots.front().size()); }
};

// Contiguous (Megatron) or round-robin base layout; then each redundant slot takes a replica of
// the expert with the highest load per replica, on the GPU with the least load that lacks it.
Placement make_placement(const PlacementSpec& spec, int experts, int gpus,
                         const std::vector<double>& expert_load);

// Tokens each GPU processes when every expert's load splits evenly over its replicas.
std::vector<double> gpu_loads(const Placement& placement, const std::vector<double>& expert_load);

}  // namespace moesim::sim
