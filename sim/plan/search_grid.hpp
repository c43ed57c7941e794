#pragma once
// A plan's search lists and the size of the candidate grid they make, counted before any
// candidate is built so a grid past kMaxPlanCandidates is refused at once (docs/limits.md).
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/plan/parallel_search.hpp"

namespace moesim::sim {

// One entry of /search/clusters: a node system, its options and price, and the node counts.
struct ClusterOption {
  nlohmann::json cluster;  // scenario "cluster" object without the node count
  std::vector<int> nodes;
  int gpus_per_node = 8;
  int gpus_per_domain = 8;  // scale-up domain: hierarchical dispatch needs EP over whole ones
  double usd_per_gpu_hour = 0;
  std::string price_date;
};

// The plan's "search" section: the lists whose product is the candidate grid.
struct SearchLists {
  std::vector<ClusterOption> clusters;
  bool expert_parallel_auto = true;  // every EP size that divides the GPUs and the expert slots
  std::vector<int> expert_parallel;
  std::vector<int> attention_tensor_parallel{1};
  std::vector<int> redundant_experts{0};
  std::vector<std::string> placement_strategies{"contiguous"};
  std::vector<std::string> overlaps{"none"};
  std::vector<std::string> dispatches{"direct"};
  std::vector<int> tokens_per_gpu;  // empty: the base workload's (a batch-size sweep otherwise)
  ParallelSearch parallel;          // MoE TP, pipeline, ZeRO (parallel_search.hpp)
  std::vector<int> batch_limits;    // a serving plan's /serving/batching/max_batch_per_rank
};

// The EP sizes to try: only those dividing both the GPUs and the expert slots make candidates.
std::vector<int> expert_parallel_sizes(const SearchLists& search, int gpus, int expert_slots);

// Refuses, naming the longest list, a grid of more than kMaxPlanCandidates options (candidates
// times a serving plan's batch limits, each a simulation) for a base of `experts` experts.
void check_grid_size(const SearchLists& search, int experts, const std::string& source);

}  // namespace moesim::sim
