#include "sim/spec/parallel_groups.hpp"

#include <algorithm>
#include <array>
#include <set>

namespace moesim::sim {
namespace {

enum Dim { Tp, Dp, Pp };

// The dimensions innermost first, as the rank order names them.
std::array<Dim, 3> dims_of(RankOrder order) {
  switch (order) {
    case RankOrder::TpDpPp:
      return {Tp, Dp, Pp};
    case RankOrder::TpPpDp:
      return {Tp, Pp, Dp};
    case RankOrder::DpTpPp:
      return {Dp, Tp, Pp};
    case RankOrder::DpPpTp:
      return {Dp, Pp, Tp};
    case RankOrder::PpTpDp:
      return {Pp, Tp, Dp};
    case RankOrder::PpDpTp:
      return {Pp, Dp, Tp};
  }
  return {Tp, Dp, Pp};
}

// The global rank of attention coordinates (tp, dp, pp). Context parallel sits innermost in the
// rank order's "dp" (Megatron's "tp-cp-ep-dp-pp"): dp counts CP x DP replicas, CP first.
int global_rank(const ParallelismSpec& p, int tp, int dp, int pp) {
  const std::array<int, 3> coordinate{tp, dp, pp};
  const std::array<int, 3> size{p.attention_tensor_parallel, p.weight_replicas(), p.pipeline.size};
  int rank = 0;
  int stride = 1;
  for (Dim d : dims_of(p.rank_order)) {
    rank += coordinate[d] * stride;
    stride *= size[d];
  }
  return rank;
}

// A stage's local index l (attention order: tp innermost) as a global rank.
int stage_rank(const ParallelismSpec& p, int local, int stage = 0) {
  const int tp = p.attention_tensor_parallel;
  return global_rank(p, local % tp, local / tp, stage);
}

// The MoE groups of every stage: local index shard + k (rank + EP replica) for MoE TP k, EP
// rank and expert data-parallel replica; `by_expert` lists EP groups, else MoE TP groups.
std::vector<std::vector<int>> moe_groups(const ScenarioSpec& s, bool by_expert) {
  const ParallelismSpec& p = s.parallelism;
  const int k = p.moe_tensor_parallel, ep = p.expert_parallel;
  const int replicas = p.stage_gpus(s.cluster.gpus()) / std::max(1, p.moe_group());
  std::vector<std::vector<int>> groups;
  for (int stage = 0; stage < p.pipeline.size; ++stage)
    for (int replica = 0; replica < replicas; ++replica)
      for (int outer = 0; outer < (by_expert ? k : ep); ++outer) {
        std::vector<int> group;
        for (int inner = 0; inner < (by_expert ? ep : k); ++inner) {
          const int shard = by_expert ? outer : inner, rank = by_expert ? inner : outer;
          group.push_back(stage_rank(p, shard + k * (rank + ep * replica), stage));
        }
        groups.push_back(std::move(group));
      }
  return groups;
}

}  // namespace

std::vector<int> group_members(const ScenarioSpec& s, GroupKind kind) {
  const ParallelismSpec& p = s.parallelism;
  std::vector<int> members;
  const int moe_tp = p.moe_tensor_parallel;
  const int moe_group = p.moe_group();
  switch (kind) {
    case GroupKind::AttentionTensor:
      for (int i = 0; i < p.attention_tensor_parallel; ++i)
        members.push_back(global_rank(p, i, 0, 0));
      break;
    case GroupKind::Data:  // CP ranks hold the same weights: gradients reduce over CP x DP
      for (int i = 0; i < p.weight_replicas(); ++i) members.push_back(global_rank(p, 0, i, 0));
      break;
    case GroupKind::Context:
      for (int i = 0; i < p.context_parallel; ++i) members.push_back(global_rank(p, 0, i, 0));
      break;
    case GroupKind::Pipeline:
      for (int i = 0; i < p.pipeline.size; ++i) members.push_back(global_rank(p, 0, 0, i));
      break;
    case GroupKind::MoeTensor:
      for (int i = 0; i < moe_tp; ++i) members.push_back(stage_rank(p, i));
      break;
    case GroupKind::Expert:
      for (int i = 0; i < p.expert_parallel; ++i) members.push_back(stage_rank(p, i * moe_tp));
      break;
    case GroupKind::ExpertData: {
      const int replicas = p.stage_gpus(s.cluster.gpus()) / std::max(1, moe_group);
      for (int i = 0; i < replicas; ++i) members.push_back(stage_rank(p, i * moe_group));
      break;
    }
  }
  return members;
}

std::vector<std::vector<int>> expert_groups(const ScenarioSpec& s) { return moe_groups(s, true); }

std::vector<std::vector<int>> moe_tensor_groups(const ScenarioSpec& s) {
  return moe_groups(s, false);
}

int pipeline_stage_of(const ScenarioSpec& s, int gpu) {
  const ParallelismSpec& p = s.parallelism;
  const std::array<int, 3> size{p.attention_tensor_parallel, p.weight_replicas(), p.pipeline.size};
  std::array<int, 3> coordinate{0, 0, 0};
  for (Dim d : dims_of(p.rank_order)) {
    coordinate[d] = gpu % size[d];
    gpu /= size[d];
  }
  return coordinate[Pp];
}

GroupLayout group_layout(const ScenarioSpec& s, GroupKind kind) {
  const auto members = group_members(s, kind);
  const int domain = std::max(1, s.cluster.system.gpus_per_scale_up_domain);
  std::set<int> domains;
  for (int rank : members) domains.insert(rank / domain);
  return {static_cast<int>(members.size()), std::max(1, static_cast<int>(domains.size()))};
}

const char* group_name(GroupKind kind) {
  switch (kind) {
    case GroupKind::AttentionTensor:
      return "attention TP";
    case GroupKind::Data:
      return "data parallel";
    case GroupKind::Pipeline:
      return "pipeline";
    case GroupKind::MoeTensor:
      return "MoE TP";
    case GroupKind::Expert:
      return "EP";
    case GroupKind::ExpertData:
      return "expert data parallel";
    case GroupKind::Context:
      return "context parallel";
  }
  return "?";
}

}  // namespace moesim::sim
