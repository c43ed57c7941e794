#pragma once
// Where each parallel group's GPUs sit (docs/parallelism.md): ranks are numbered by the scenario's
// rank_order over attention TP, DP and the pipeline (innermost first, Megatron's convention);
// inside a pipeline stage the MoE groups take the stage's GPUs in attention order, MoE TP
// innermost, then EP, then expert data parallel. The pricing needs only how many GPUs a group
// has and over how many scale-up domains (NVLink islands) they spread.
#include <vector>

#include "sim/spec/scenario.hpp"

namespace moesim::sim {

enum class GroupKind { AttentionTensor, Data, Pipeline, MoeTensor, Expert, ExpertData };

struct GroupLayout {
  int size = 1;     // GPUs in the group
  int domains = 1;  // scale-up domains they occupy
  bool crosses_domains() const { return domains > 1; }
};

// The global ranks of the group of `kind` that holds rank 0, in group order.
std::vector<int> group_members(const ScenarioSpec& scenario, GroupKind kind);
// Its size and the scale-up domains it spans.
GroupLayout group_layout(const ScenarioSpec& scenario, GroupKind kind);
// "attention TP", "data parallel", ...: for the report's notes.
const char* group_name(GroupKind kind);

}  // namespace moesim::sim
