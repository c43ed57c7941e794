#include "sim/run/simulate.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include "sim/routing/expert_load.hpp"
#include "sim/cost/memory_model.hpp"
#include "sim/placement/placement.hpp"
#include "sim/placement/strategies.hpp"
#include "sim/routing/policy.hpp"
#include "sim/cost/layer_cost_model.hpp"
#include "sim/cost/measured_profile.hpp"
#include "base/config_error.hpp"

namespace moesim::sim {
namespace {

// Synthetic scores of a layer's sampled estimates: seeded by the scenario, different per layer.
std::uint64_t score_seed(const ScenarioSpec& s, int moe_layer) {
  return s.workload.routing.seed * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(moe_layer) + 1;
}

// The most utilised links, ties broken by name so reports stay byte-identical.
std::vector<BusyLink> busiest_links(const std::vector<CostedLink>& links, const std::vector<double>& bytes,
                                    double step_time) {
  std::vector<BusyLink> busy;
  for (std::size_t i = 0; i < links.size(); ++i)
    if (bytes[i] > 0 && links[i].capacity > 0 && step_time > 0)
      busy.push_back({links[i].name, links[i].kind, bytes[i], bytes[i] / (links[i].capacity * step_time)});
  const auto order = [](const BusyLink& a, const BusyLink& b) {
    return a.utilisation != b.utilisation ? a.utilisation > b.utilisation : a.name < b.name;
  };
  const auto keep = std::min(busy.size(), kBusiestLinks);
  std::partial_sort(busy.begin(), busy.begin() + static_cast<std::ptrdiff_t>(keep), busy.end(), order);
  busy.resize(keep);
  return busy;
}



}  // namespace



Report simulate(const RunInputs& inputs, const ProgressCallback& progress) {
  const ScenarioSpec& s = inputs.scenario;
  const SimulationOverrides& overrides = inputs.overrides;
  check_overrides(s, overrides);
  const auto all_loads = expert_loads(s, overrides);
  const auto placements = overrides.placements.empty() ? scenario_placements(s, all_loads) : overrides.placements;
  const ModelSpec& m = s.model;
  const int ep = s.parallelism.expert_parallel;
  const int groups = s.cluster.gpus() / ep;
  const int slots_per_gpu = (m.experts + s.placement.redundant_experts) / ep;
  const double tp = s.parallelism.attention_tensor_parallel;
  const double micro_batches = s.parallelism.micro_batches;
  // Tokens one GPU feeds into each MoE layer per micro-batch (TP ranks split a DP rank's tokens).
  const double tokens_per_gpu = tokens_per_gpu_per_micro_batch(s);
  const double tokens_per_group = tokens_per_gpu * ep;
  const bool training = s.workload.kind == WorkloadKind::Training;

  Report r;
  r.scenario = s.name;
  r.model = m.name;
  r.cluster = s.cluster.name;
  r.workload = std::string(choice_name(s.workload.kind));
  r.overlap = s.parallelism.overlap;
  r.routing = std::string(choice_name(s.policy.routing));
  r.micro_batches = s.parallelism.micro_batches;
  r.gpus = s.cluster.gpus();
  r.usd_per_gpu_hour = s.price.usd_per_gpu_hour;
  r.price_date = s.price.date;
  r.device_memory_bytes = s.cluster.device.hbm_bytes;
  r.memory = ensure_fits(s);

  const std::optional<MeasuredProfile>& profile = inputs.profile;
  std::optional<NetworkModel> network;
  const bool flows = s.network.model == NetworkModelKind::Flow ||
                     (s.network.model == NetworkModelKind::Auto && s.parallelism.expert_parallel <= kAutoFlowMaxGpus);
  r.network_model = flows ? "flow" : "analytic";
  r.dispatch = std::string(choice_name(s.network.dispatch));
  r.dedup = s.network.dedup;
  if (flows)
    network.emplace(s, profile ? profile->collective_overhead_us() * 1e-6 : 0.0);
  const LayerCostModel model(s, profile ? &*profile : nullptr, network ? &*network : nullptr);
  r.profile_source = model.measured() ? "measured" : "roofline";
  r.collective_costs = model.collective_source();
  r.ep_groups_played = network ? network->played_groups() : 1;
  r.profile_name = model.measured() ? profile->source() + " (" + profile->gpu_name() + ")" : "";
  r.per_gpu.resize(r.gpus);
  for (int g = 0; g < r.gpus; ++g) r.per_gpu[g].gpu = g;
  std::vector<double> gpu_compute(ep, 0.0), gpu_communication(ep, 0.0), gpu_tokens(ep, 0.0),
      gpu_dropped(ep, 0.0), gpu_unrouted(ep, 0.0);
  double nvlink_bytes = 0, network_bytes = 0;
  double sum_max_load = 0, sum_mean_load = 0;
  std::vector<double> link_bytes(model.links().size(), 0.0);  // one EP group, per step

  // Which blocks hold experts: the last moe_layers blocks (DeepSeek's first_k_dense_replace shape).
  const int first_moe = m.layers - m.moe_layers;
  for (int layer = 0; layer < m.layers; ++layer) {
    LayerResult result;
    result.layer = layer;
    result.moe = layer >= first_moe;
    if (!result.moe) {
      result.phases.dense = model.dense_time(tokens_per_gpu, false);
      for (int g = 0; g < ep; ++g) gpu_compute[g] += result.phases.dense * micro_batches;
    } else {
      const int moe_index = layer - first_moe;
      const Placement& placement = placements[moe_index];
      const RoutingOutcome outcome =
          overrides.routing_outcomes.empty()
              ? apply_policy(s.policy, placement, spread_evenly(all_loads[moe_index], tokens_per_group, ep),
                             m.top_k, {.popularity = {}, .seed = score_seed(s, moe_index)})
              : scale_outcome(overrides.routing_outcomes[moe_index],
                              tokens_per_group / overrides.routing_outcomes[moe_index].tokens);
      // The GEMMs see padding rows too, and the dispatch carries what routers kept (or padded).
      const auto& load = outcome.computed;
      const LayerCost cost = model.moe_layer(placement, load, tokens_per_gpu);
      const double per_step = micro_batches * groups;
      result.dropped_tokens = outcome.total(outcome.dropped) * per_step;
      result.unrouted_tokens = outcome.unrouted_tokens * per_step;
      result.unrouted_estimated = outcome.unrouted_estimated;
      for (double dropped : outcome.dropped) result.dropped_per_expert.push_back(dropped * per_step);
      // Every EP group replays the same routing, so rank g of each group drops the same.
      for (double dropped : outcome.dropped_per_gpu) result.dropped_per_gpu.push_back(dropped * micro_batches);
      for (double unrouted : outcome.unrouted_per_rank) result.unrouted_per_gpu.push_back(unrouted * micro_batches);
      result.phases = cost.phases;
      result.scale_up_bytes = cost.nvlink_bytes;
      result.scale_out_bytes = cost.network_bytes;
      // Each rank's own GEMM time: what the rank computes before it waits at the combine.
      result.gpu_experts.resize(ep);
      for (int g = 0; g < ep; ++g)
        result.gpu_experts[g] = cost.gpu_compute[g] - cost.phases.dense - cost.phases.gate;
      const auto& loads = cost.gpu_tokens;  // rows computed after the replica choice, padding included
      // Real tokens per GPU: the same unless padded, when replicas share their kept tokens evenly.
      const auto kept_loads = outcome.computed == outcome.kept ? loads : gpu_loads(placement, outcome.kept);
      const double mean = std::accumulate(loads.begin(), loads.end(), 0.0) / ep;
      const double max = *std::max_element(loads.begin(), loads.end());
      result.imbalance = mean > 0 ? max / mean : 1.0;
      sum_max_load += max;
      sum_mean_load += mean;
      for (double tokens : outcome.kept) result.tokens_per_expert.push_back(tokens * per_step);
      for (int g = 0; g < ep; ++g) {
        gpu_compute[g] += cost.gpu_compute[g] * micro_batches;
        gpu_communication[g] += cost.gpu_communication[g] * micro_batches;
        gpu_tokens[g] += kept_loads[g] * micro_batches;
        gpu_dropped[g] += result.dropped_per_gpu[g];
        gpu_unrouted[g] += result.unrouted_per_gpu[g];
      }
      for (std::size_t link = 0; link < link_bytes.size(); ++link) link_bytes[link] += cost.link_bytes[link] * micro_batches;
      nvlink_bytes += cost.nvlink_bytes * micro_batches * groups;
      network_bytes += cost.network_bytes * micro_batches * groups;
      r.dropped_tokens += result.dropped_tokens;
      r.unrouted_tokens += result.unrouted_tokens;
      r.unrouted_estimated = r.unrouted_estimated || result.unrouted_estimated;
      r.routed_tokens += outcome.total(outcome.routed) * per_step;
    }
    result.phases.total = model.layer_total(result.phases);
    r.step_time_s += result.phases.total;
    r.layers.push_back(std::move(result));
    if (progress) progress(layer + 1, m.layers);
  }

  if (training) {
    // Backward costs twice the forward compute and repeats both all-to-alls; then gradients of the
    // replicated (non-expert) weights are all-reduced over data-parallel ranks and expert gradients
    // over the EP groups holding the same experts.
    double forward_comm = 0;
    for (const auto& l : r.layers) forward_comm += (l.phases.dispatch + l.phases.combine) * micro_batches;
    const double forward = r.step_time_s;
    const double dense_bytes = (static_cast<double>(m.total_params()) -
                                static_cast<double>(m.moe_layers) * m.experts * m.expert_params()) /
                               tp * 2;
    const double expert_bytes = static_cast<double>(m.moe_layers) * slots_per_gpu * m.expert_params() * 2;
    const double gradients = model.all_reduce_time(dense_bytes, s.parallelism.attention_data_parallel) +
                             model.all_reduce_time(expert_bytes, groups);
    r.step_time_s = forward + 2 * (forward - forward_comm) + forward_comm + gradients;
    for (double& bytes : link_bytes) bytes *= 2;  // the backward repeats both all-to-alls
    for (int g = 0; g < ep; ++g) {
      gpu_compute[g] *= 3;
      gpu_communication[g] = gpu_communication[g] * 2 + gradients;
    }
  }

  r.tokens_per_step = static_cast<double>(s.workload.tokens_per_gpu) * s.parallelism.attention_data_parallel;
  r.imbalance = sum_mean_load > 0 ? sum_max_load / sum_mean_load : 1.0;
  for (int g = 0; g < r.gpus; ++g) {
    auto& gpu = r.per_gpu[g];
    const int rank = g % ep;  // every EP group replays the same expected routing
    gpu.compute_s = gpu_compute[rank];
    gpu.communication_s = gpu_communication[rank];
    gpu.idle_s = std::max(0.0, r.step_time_s - gpu.compute_s - gpu.communication_s);
    gpu.expert_tokens = gpu_tokens[rank];
    gpu.dropped_tokens = gpu_dropped[rank];
    gpu.unrouted_tokens = gpu_unrouted[rank];
  }
  const bool has_fabric = s.cluster.gpus() > s.cluster.system.gpus_per_scale_up_domain;
  const double scale_up_capacity = s.cluster.system.scale_up_bandwidth * r.gpus * r.step_time_s;
  r.links.push_back({std::string(topology::scale_up_kind_name(s.cluster.system.scale_up_kind)),
                     nvlink_bytes, scale_up_capacity > 0 ? nvlink_bytes / scale_up_capacity : 0});
  if (has_fabric) {
    const double nic_capacity = s.cluster.nic.bandwidth * s.cluster.system.nics_per_node *
                                s.cluster.nodes * r.step_time_s;
    r.links.push_back({s.cluster.fabric == FabricKind::Roce ? "roce" : "ib", network_bytes,
                       nic_capacity > 0 ? network_bytes / nic_capacity : 0});
  }
  r.busiest_links = busiest_links(model.links(), link_bytes, r.step_time_s);
  return r;
}

Report simulate(const ScenarioSpec& scenario, const ProgressCallback& progress,
                const SimulationOverrides& overrides) {
  return simulate(resolve_inputs(scenario, overrides), progress);
}

}  // namespace moesim::sim
