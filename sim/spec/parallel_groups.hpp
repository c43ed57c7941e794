#pragma once
// Where each parallel group's GPUs sit (docs/parallelism.md): ranks are numbered by the scenario's
// rank_order over attention TP, DP (context parallel innermost in it) and the pipeline (innermost
// first, Megatron's convention);
// inside a pipeline stage the MoE groups take the stage's GPUs in attention order, MoE TP
// innermost, then EP, then expert data parallel. The pricing needs only how many GPUs a group
// has and over how many scale-up domains (NVLink islands) they spread.
#include <vector>

#include "sim/spec/scenario.hpp"

namespace moesim::sim {

// Data: the replicas of the non-expert weights (CP x attention DP); Context: the TP groups that
// share each sequence (context parallel).
enum class GroupKind { AttentionTensor, Data, Pipeline, MoeTensor, Expert, ExpertData, Context };

struct GroupLayout {
  int size = 1;     // GPUs in the group
  int domains = 1;  // scale-up domains they occupy
  bool crosses_domains() const { return domains > 1; }
};

// The global ranks of the group of `kind` that holds rank 0, in group order.
std::vector<int> group_members(const ScenarioSpec& scenario, GroupKind kind);
// Every EP group of the cluster, each in EP-rank order (the first is group_members' Expert):
// stage by stage, expert data-parallel replica by replica, MoE TP shard by shard.
std::vector<std::vector<int>> expert_groups(const ScenarioSpec& scenario);
// Every MoE TP group of the cluster, each in shard order.
std::vector<std::vector<int>> moe_tensor_groups(const ScenarioSpec& scenario);
// Its size and the scale-up domains it spans.
GroupLayout group_layout(const ScenarioSpec& scenario, GroupKind kind);
// The pipeline stage global rank `gpu` belongs to (its pp coordinate under rank_order).
int pipeline_stage_of(const ScenarioSpec& scenario, int gpu);
// "attention TP", "data parallel", ...: for the report's notes.
const char* group_name(GroupKind kind);

}  // namespace moesim::sim
