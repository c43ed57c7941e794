#pragma once
// Expert placement strategies producing sim::Placement: contiguous (Megatron), round-robin, LPT
// greedy, DeepSeek's EPLB (hierarchical or global), topology-aware (co-activated experts share a
// node) and explicit placement files; every strategy fills the redundant slots with replicas.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/placement/placement.hpp"

namespace moesim::sim {

struct PlacementInputs {
  int experts = 0;
  int gpus = 0;
  int nodes = 1;                         // GPUs split evenly over nodes
  int redundant = 0;                     // extra slots; (experts + redundant) must divide over gpus
  std::vector<double> expert_load = {};  // tokens per logical expert (e.g. summed over layers)
  int groups = 0;  // expert groups (DeepSeek n_group) for hierarchical EPLB; 0 = none
  std::vector<double> coactivation =
      {};  // experts × experts tokens choosing both, for topology-aware
  // For "explicit": JSON {"gpus": [[expert, ...], ...]}, or {"layers": [{"gpus": ...}, ...]} with
  // one placement per MoE layer (`layer` picks this MoE layer's, `moe_layers` checks the count),
  // or an SGLang/vLLM physical-to-logical expert map (.pt, .npy, .json with
  // physical_to_logical_map; sim/traces/import_stacks.hpp).
  std::string placement_file = {};
  int layer = 0;
  int moe_layers = 0;  // 0: any count (a file for another model is refused by its expert ids)
  int map_layer = -1;  // the map's row to place by (a 1-row map serves all); -1: rows all alike
};

// Throws ConfigError naming the field (strategy, gpus, redundant, ...) when the inputs cannot be
// placed, or the explicit file's JSON path when it is malformed.
Placement place_experts(PlacementStrategy strategy, const PlacementInputs& inputs);

// Max over mean of the per-GPU loads (1 = perfectly balanced).
double placement_imbalance(const Placement& placement, const std::vector<double>& expert_load);

// DeepSeek EPLB's building blocks, exposed for tests.
// Items (by weight) into `packs` packs of equal item count, heaviest first to the lightest pack.
std::vector<int> balanced_packing(const std::vector<double>& weights, int packs);
// Replica count per expert after adding `extra` replicas, each to the max load-per-replica expert.
std::vector<int> replicate_experts(const std::vector<double>& load, int extra);

}  // namespace moesim::sim
