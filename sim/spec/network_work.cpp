#include "sim/spec/network_work.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace moesim::sim {

namespace {

// sim/network plays every group of a cluster of at most this many GPUs (kFlowAllGroupsMaxGpus).
constexpr std::int64_t kAllGroupsMaxGpus = 64;

std::int64_t moe_layers(const ScenarioSpec& s) { return std::max(1, s.model.moe_layers); }

}  // namespace

std::int64_t flow_pairs(const ScenarioSpec& s) {
  const std::int64_t ep = s.parallelism.expert_parallel, gpus = s.cluster.gpus();
  const std::int64_t played = gpus <= kAllGroupsMaxGpus ? std::max(ep, gpus) : ep;
  return played * played;
}

bool flow_work_fits(const ScenarioSpec& s) {
  const std::int64_t pairs = flow_pairs(s);
  return pairs <= kMaxFlowPairs && pairs * moe_layers(s) <= kMaxFlowPairLayers &&
         std::int64_t{s.cluster.gpus()} * moe_layers(s) <= kMaxFlowGpuLayers;
}

void check_network_work(const ScenarioSpec& s, ProblemList& problems) {
  const std::int64_t ep = s.parallelism.expert_parallel, layers = moe_layers(s);
  const std::int64_t slots = std::int64_t{s.model.experts} + s.placement.redundant_experts;
  const std::int64_t width = std::max(ep, slots);
  if (layers * ep * width > kMaxRankWork) {
    problems.add("/parallelism/expert_parallel",
                 fmt::format("expected moe_layers x expert_parallel x max(expert_parallel, expert "
                             "slots) <= {} (each layer plans its all-to-all pair by pair and its "
                             "experts rank by rank; docs/limits.md), got {} x {} x {} = {}",
                             kMaxRankWork, layers, ep, width, layers * ep * width));
    return;
  }
  // Only the flow model reads a topology file: past the bounds "auto" would ignore it, not play it.
  const bool forced = s.network.model == NetworkModelKind::Flow;
  const bool topology =
      s.network.model == NetworkModelKind::Auto && !s.cluster.topology_file.empty();
  if ((!forced && !topology) || flow_work_fits(s)) return;
  problems.add(
      forced ? "/network/model" : "/cluster/topology",
      fmt::format("expected {} within the flow model's bounds: flows over {} GPU pairs x "
                  "{} MoE layers on {} GPUs exceed them (at most {} pairs, {} "
                  "pair-layers, {} GPU-layers; docs/limits.md){}",
                  forced ? "\"flow\"" : "a topology file (only flows read one)", flow_pairs(s),
                  layers, s.cluster.gpus(), kMaxFlowPairs, kMaxFlowPairLayers, kMaxFlowGpuLayers,
                  forced ? "; \"auto\" prices them analytically" : ""));
}

}  // namespace moesim::sim
