#include "sim/run/simulate.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include "base/config_error.hpp"
#include "sim/cost/layer_cost_model.hpp"
#include "sim/cost/measured_profile.hpp"
#include "sim/cost/memory_model.hpp"
#include "sim/network/dispatch_traffic.hpp"
#include "sim/placement/placement.hpp"
#include "sim/placement/strategies.hpp"
#include "sim/routing/expert_load.hpp"
#include "sim/routing/policy.hpp"
#include "sim/run/batch_variation.hpp"
#include "sim/run/mixed_prefill.hpp"
#include "sim/run/step_extras.hpp"
#include "sim/run/training_step.hpp"
#include "sim/spec/network_work.hpp"

namespace moesim::sim {
namespace {

// Synthetic scores of a layer's sampled estimates: seeded by the scenario, different per layer.
std::uint64_t score_seed(const ScenarioSpec& s, int moe_layer) {
  return s.workload.routing.seed * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(moe_layer) +
         1;
}

// The most utilised links, ties broken by name so reports stay byte-identical.
std::vector<BusyLink> busiest_links(const std::vector<CostedLink>& links,
                                    const std::vector<double>& bytes, double step_time) {
  std::vector<BusyLink> busy;
  for (std::size_t i = 0; i < links.size(); ++i)
    if (bytes[i] > 0 && links[i].capacity > 0 && step_time > 0)
      busy.push_back(
          {links[i].name, links[i].kind, bytes[i], bytes[i] / (links[i].capacity * step_time)});
  const auto order = [](const BusyLink& a, const BusyLink& b) {
    return a.utilisation != b.utilisation ? a.utilisation > b.utilisation : a.name < b.name;
  };
  const auto keep = std::min(busy.size(), kBusiestLinks);
  std::partial_sort(busy.begin(), busy.begin() + static_cast<std::ptrdiff_t>(keep), busy.end(),
                    order);
  busy.resize(keep);
  return busy;
}

// What the step adds up per EP rank and per link while its layers are played (one EP group;
// every group replays the same routing).
struct StepTotals {
  explicit StepTotals(int ep, std::size_t links)
      : gpu_compute(ep, 0.0),
        gpu_communication(ep, 0.0),
        gpu_tokens(ep, 0.0),
        gpu_dropped(ep, 0.0),
        gpu_unrouted(ep, 0.0),
        link_bytes(links, 0.0),
        dispatch_link_bytes(links, 0.0),
        combine_link_bytes(links, 0.0) {}
  std::vector<double> gpu_compute, gpu_communication, gpu_tokens, gpu_dropped, gpu_unrouted;
  std::vector<double> link_bytes;  // one EP group, per step
  // The forward's MoE collectives alone (never scaled to a training step), and their times on the
  // slowest GPU: each link's rate while a phase runs (LinkLoad).
  std::vector<double> dispatch_link_bytes, combine_link_bytes;
  double dispatch_seconds = 0, combine_seconds = 0;
  double nvlink_bytes = 0, network_bytes = 0;
  double sum_max_load = 0, sum_mean_load = 0;
  double sum_expected_max_load = 0;  // the busiest GPU's expected load (no batch variation)
};

// Every link's load, for drawing (LinkLoad).
std::vector<LinkLoad> every_link_load(const std::vector<CostedLink>& links,
                                      const StepTotals& totals, double step_time) {
  const auto rate = [](double bytes, double capacity, double seconds) {
    return capacity > 0 && seconds > 0 ? bytes / (capacity * seconds) : 0.0;
  };
  std::vector<LinkLoad> loads;
  loads.reserve(links.size());
  for (std::size_t i = 0; i < links.size(); ++i)
    loads.push_back(
        {links[i].name, links[i].kind, links[i].capacity, totals.link_bytes[i],
         rate(totals.link_bytes[i], links[i].capacity, step_time),
         rate(totals.dispatch_link_bytes[i], links[i].capacity, totals.dispatch_seconds),
         rate(totals.combine_link_bytes[i], links[i].capacity, totals.combine_seconds)});
  return loads;
}

// The parts of one step every layer shares: the scenario's sizes and the models that price it.
struct StepContext {
  const ScenarioSpec& s;
  const LayerCostModel& model;
  const SimulationOverrides& overrides;
  const std::vector<std::vector<double>>& loads;
  const std::vector<Placement>& placements;
  // Per MoE layer, the batch its step is priced at; empty when no variation applies.
  const std::vector<BusiestBatch>& busiest;
  int ep = 0;
  int groups = 0;
  double micro_batches = 1;
  double tokens_per_gpu = 0;    // per micro-batch
  double tokens_per_group = 0;  // per micro-batch
};

// The report's fields that come from the scenario alone, before any layer is played.
Report report_header(const ScenarioSpec& s) {
  Report r;
  r.scenario = s.name;
  r.model = s.model.name;
  r.cluster = s.cluster.name;
  r.workload = std::string(choice_name(s.workload.kind));
  r.overlap = s.parallelism.overlap;
  r.routing = std::string(choice_name(s.policy.routing));
  r.micro_batches = s.parallelism.micro_batches;
  r.gpus = s.cluster.gpus();
  r.usd_per_gpu_hour = s.price.usd_per_gpu_hour;
  r.price_date = s.price.date;
  r.device_memory_bytes = s.cluster.device.hbm_bytes;
  r.dispatch = std::string(choice_name(s.network.dispatch));
  r.dedup = s.network.dedup;
  r.per_gpu.resize(r.gpus);
  for (int g = 0; g < r.gpus; ++g) r.per_gpu[g].gpu = g;
  return r;
}

bool plays_flows(const ScenarioSpec& s) {
  // Auto, and a "flow" set after parsing (the GUI's toolbar), play flows wherever they fit the flow
  // model's work bounds (network_work.hpp; docs/limits.md, "Network work"); DeepEP's kernels are
  // priced analytically, which the scenario's parser has already set.
  return s.network.model != NetworkModelKind::Analytic && flow_work_fits(s);
}

// The capacity policy's outcome for one MoE layer and micro-batch of one EP group.
RoutingOutcome layer_outcome(const StepContext& c, int moe_index) {
  if (!c.overrides.routing_outcomes.empty()) {
    const auto& recorded = c.overrides.routing_outcomes[moe_index];
    return scale_outcome(recorded, c.tokens_per_group / recorded.tokens);
  }
  return apply_policy(c.s.policy, c.placements[moe_index],
                      spread_evenly(c.loads[moe_index], c.tokens_per_group, c.ep), c.s.model.top_k,
                      {.popularity = {}, .seed = score_seed(c.s, moe_index)});
}

// Drops and unrouted tokens of one MoE layer, per step.
void record_drops(const StepContext& c, const RoutingOutcome& outcome, LayerResult& result) {
  const double per_step = c.micro_batches * c.groups;
  result.dropped_tokens = outcome.total(outcome.dropped) * per_step;
  result.unrouted_tokens = outcome.unrouted_tokens * per_step;
  result.unrouted_estimated = outcome.unrouted_estimated;
  for (double dropped : outcome.dropped) result.dropped_per_expert.push_back(dropped * per_step);
  // Every EP group replays the same routing, so rank g of each group drops the same.
  for (double dropped : outcome.dropped_per_gpu)
    result.dropped_per_gpu.push_back(dropped * c.micro_batches);
  for (double unrouted : outcome.unrouted_per_rank)
    result.unrouted_per_gpu.push_back(unrouted * c.micro_batches);
  for (double tokens : outcome.kept) result.tokens_per_expert.push_back(tokens * per_step);
}

// Real tokens each GPU computes: the priced rows, unless padded (replicas then share their kept
// tokens evenly) or varied (the priced batch is one step's busiest GPU: each GPU's expected share
// under the replica choice instead).
std::vector<double> expected_gpu_tokens(const StepContext& c, const Placement& placement,
                                        const RoutingOutcome& outcome,
                                        const std::vector<double>& priced, bool varied) {
  if (varied && c.s.policy.replica_choice != ReplicaChoice::RoundRobin)
    return replica_gpu_loads(placement, outcome.kept, c.s.policy.replica_choice,
                             c.model.domain_size());
  if (varied || outcome.computed != outcome.kept) return gpu_loads(placement, outcome.kept);
  return priced;
}

// One MoE layer: its phases, drops and per-rank work, added to the step's totals.
LayerResult play_moe_layer(const StepContext& c, int moe_index, StepTotals& totals, Report& r) {
  LayerResult result;
  const Placement& placement = c.placements[moe_index];
  const RoutingOutcome outcome = layer_outcome(c, moe_index);
  // The GEMMs see padding rows too, and the dispatch carries what routers kept (or padded).
  const ExpertLoads counts =
      c.overrides.routing_outcomes.empty() ? ExpertLoads::Expected : ExpertLoads::Recorded;
  // Under batch-to-batch variation the step waits for its busiest GPU (routing/load_variation).
  const bool varied = !c.busiest.empty();
  const auto& priced = varied ? c.busiest[moe_index].load : outcome.computed;
  const LayerCost cost = c.model.moe_layer(placement, priced, c.tokens_per_gpu, counts);
  record_drops(c, outcome, result);
  result.phases = cost.phases;
  result.scale_up_bytes = cost.nvlink_bytes;
  result.scale_out_bytes = cost.network_bytes;
  result.dispatch_byte_share =
      c.s.model.dispatch_bytes / (c.s.model.dispatch_bytes + c.s.model.combine_bytes);
  // Each rank's own GEMM time: what the rank computes before it waits at the combine.
  result.gpu_experts.resize(c.ep);
  for (int g = 0; g < c.ep; ++g)
    result.gpu_experts[g] = cost.gpu_compute[g] - cost.phases.dense - cost.phases.gate;
  const auto& loads = cost.gpu_tokens;  // rows computed after the replica choice, padding included
  const auto kept_loads = expected_gpu_tokens(c, placement, outcome, loads, varied);
  const double mean = std::accumulate(loads.begin(), loads.end(), 0.0) / c.ep;
  const double max = *std::max_element(loads.begin(), loads.end());
  result.imbalance = mean > 0 ? max / mean : 1.0;
  const double expected_max =
      varied ? *std::max_element(kept_loads.begin(), kept_loads.end()) : max;
  result.expected_imbalance = mean > 0 ? expected_max / mean : 1.0;
  totals.sum_max_load += max;
  totals.sum_mean_load += mean;
  totals.sum_expected_max_load += expected_max;
  for (int g = 0; g < c.ep; ++g) {
    totals.gpu_compute[g] += cost.gpu_compute[g] * c.micro_batches;
    totals.gpu_communication[g] += cost.gpu_communication[g] * c.micro_batches;
    totals.gpu_tokens[g] += kept_loads[g] * c.micro_batches;
    totals.gpu_dropped[g] += result.dropped_per_gpu[g];
    totals.gpu_unrouted[g] += result.unrouted_per_gpu[g];
  }
  for (std::size_t link = 0; link < totals.link_bytes.size(); ++link) {
    totals.link_bytes[link] += cost.link_bytes[link] * c.micro_batches;
    totals.dispatch_link_bytes[link] += cost.dispatch_link_bytes[link] * c.micro_batches;
    totals.combine_link_bytes[link] +=
        (cost.link_bytes[link] - cost.dispatch_link_bytes[link]) * c.micro_batches;
  }
  totals.dispatch_seconds += cost.phases.dispatch * c.micro_batches;
  totals.combine_seconds += cost.phases.combine * c.micro_batches;
  totals.nvlink_bytes += cost.nvlink_bytes * c.micro_batches * c.groups;
  totals.network_bytes += cost.network_bytes * c.micro_batches * c.groups;
  r.dropped_tokens += result.dropped_tokens;
  r.unrouted_tokens += result.unrouted_tokens;
  r.unrouted_estimated = r.unrouted_estimated || result.unrouted_estimated;
  const double per_step = c.micro_batches * c.groups;
  r.routed_tokens += outcome.total(outcome.routed) * per_step;
  return result;
}

// The training step (training_step.hpp) replaces the forward's sum; per GPU, the average stage
// plays its share of the blocks for every micro-batch, forward and backward.
void add_training_step(const StepContext& c, StepTotals& totals, Report& r) {
  std::vector<std::string> notes;
  r.training = price_training_step(c.s, c.model, r.layers, notes);
  const TrainingPhases& t = *r.training;
  r.step_time_s = t.total();
  for (auto& line : notes) r.pricing_notes.push_back(std::move(line));
  const double blocks_played = static_cast<double>(t.micro_batches) / t.stages;
  for (double& bytes : totals.link_bytes) bytes *= 2 * blocks_played;
  totals.nvlink_bytes *= 2 * blocks_played;
  totals.network_bytes *= 2 * blocks_played;
  const double data_parallel = t.gradient_reduce_work + t.param_all_gather_work;
  for (int g = 0; g < c.ep; ++g) {
    totals.gpu_compute[g] *= 3 * blocks_played;
    totals.gpu_communication[g] =
        totals.gpu_communication[g] * 2 * blocks_played + data_parallel + t.pipeline_send_recv;
  }
}

// Per GPU and per link kind, once the step time is known.
void record_gpus_and_links(const StepContext& c, const StepTotals& totals, Report& r) {
  const ScenarioSpec& s = c.s;
  for (int g = 0; g < r.gpus; ++g) {
    auto& gpu = r.per_gpu[g];
    const int rank = g % c.ep;  // every EP group replays the same expected routing
    gpu.compute_s = totals.gpu_compute[rank];
    gpu.communication_s = totals.gpu_communication[rank];
    gpu.idle_s = std::max(0.0, r.step_time_s - gpu.compute_s - gpu.communication_s);
    gpu.expert_tokens = totals.gpu_tokens[rank];
    gpu.dropped_tokens = totals.gpu_dropped[rank];
    gpu.unrouted_tokens = totals.gpu_unrouted[rank];
  }
  const bool has_fabric = s.cluster.gpus() > s.cluster.system.gpus_per_scale_up_domain;
  const double scale_up_capacity = s.cluster.system.scale_up_bandwidth * r.gpus * r.step_time_s;
  r.links.push_back({std::string(topology::scale_up_kind_name(s.cluster.system.scale_up_kind)),
                     totals.nvlink_bytes,
                     scale_up_capacity > 0 ? totals.nvlink_bytes / scale_up_capacity : 0});
  if (has_fabric) {
    const double nic_capacity =
        s.cluster.nic.bandwidth * s.cluster.system.nics_per_node * s.cluster.nodes * r.step_time_s;
    r.links.push_back({s.cluster.fabric == FabricKind::Roce ? "roce" : "ib", totals.network_bytes,
                       nic_capacity > 0 ? totals.network_bytes / nic_capacity : 0});
  }
  r.busiest_links = busiest_links(c.model.links(), totals.link_bytes, r.step_time_s);
  r.link_loads = every_link_load(c.model.links(), totals, r.step_time_s);
}

// Every block of the model in order: dense blocks first (DeepSeek's first_k_dense_replace shape),
// then the MoE blocks; each carries its schedule, whose makespan the step adds up.
void play_layers(const StepContext& c, StepTotals& totals, Report& r,
                 const ProgressCallback& progress) {
  const ModelSpec& m = c.s.model;
  const int first_moe = m.layers - m.moe_layers;
  for (int layer = 0; layer < m.layers; ++layer) {
    LayerResult result;
    if (layer < first_moe) {
      const double attention_tokens = c.tokens_per_gpu * c.s.parallelism.attention_tensor_parallel;
      const double dense = c.model.dense_time(attention_tokens, false);
      result.phases.tp_all_reduce = c.model.tp_collectives_time(attention_tokens);
      result.phases.cp_kv_exchange = c.model.cp_kv_exchange(attention_tokens, false).seconds;
      const double communication = result.phases.tp_all_reduce + result.phases.cp_kv_exchange;
      result.phases.dense = dense + communication;
      for (int g = 0; g < c.ep; ++g) {
        totals.gpu_compute[g] += dense * c.micro_batches;
        totals.gpu_communication[g] += communication * c.micro_batches;
      }
    } else {
      result = play_moe_layer(c, layer - first_moe, totals, r);
      result.moe = true;
    }
    result.layer = layer;
    result.schedule = c.model.schedule(result.phases);
    result.phases.total = result.schedule.makespan;
    r.step_time_s += result.phases.total;
    r.layers.push_back(std::move(result));
    if (progress) progress(layer + 1, m.layers);
  }
}

// The step's band: each layer's calibrated work weighted by its band, over all the work it did;
// work priced otherwise carries no band and so narrows the step's share of it.
void record_calibration(const CalibratedPhases& phases, Report& r) {
  r.calibration_stack = phases.stack;
  for (const auto& curve : phases.curves) r.calibrated_phases.emplace_back(phase_name(curve.phase));
  double banded = 0;
  double work = 0;
  for (const auto& l : r.layers) {
    const PhaseTimes& p = l.phases;
    banded += p.band * p.calibrated;
    work += p.dense + p.gate + p.dispatch + p.experts + p.combine;
  }
  r.error_band = work > 0 ? banded / work : 0.0;
}

}  // namespace

Report simulate(const RunInputs& inputs, const ProgressCallback& progress) {
  const ScenarioSpec& s = inputs.scenario;
  check_overrides(s, inputs.overrides);
  const auto loads = expert_loads(s, inputs.overrides);
  const auto placements = inputs.overrides.placements.empty() ? scenario_placements(s, loads)
                                                              : inputs.overrides.placements;
  const LoadVariation variation = scenario_load_variation(s, inputs.overrides);
  const auto busiest = variation.active() ? busiest_batches(variation, loads, placements)
                                          : std::vector<BusiestBatch>{};
  Report r = report_header(s);
  r.memory = ensure_fits(s);
  const std::optional<MeasuredProfile>& profile = inputs.profile;
  const bool flows = plays_flows(s);
  std::optional<NetworkModel> network;
  if (flows) network.emplace(s, profile ? profile->collective_overhead_us() * 1e-6 : 0.0);
  const LayerCostModel model(s, profile ? &*profile : nullptr, network ? &*network : nullptr);
  r.network_model = flows ? "flow" : "analytic";
  r.profile_source = model.profile_source();
  r.collective_costs = model.collective_source();
  r.ep_groups_played = network ? network->played_groups() : 1;
  r.profile_name = model.measured() || model.calibrated()
                       ? profile->source() + " (" + profile->gpu_name() + ")"
                       : "";

  const int ep = s.parallelism.expert_parallel;
  const double tokens_per_gpu = tokens_per_gpu_per_micro_batch(s);
  const StepContext context{s,
                            model,
                            inputs.overrides,
                            loads,
                            placements,
                            busiest,
                            ep,
                            s.cluster.gpus() / ep,
                            static_cast<double>(s.parallelism.micro_batches),
                            tokens_per_gpu,
                            tokens_per_gpu * ep};
  StepTotals totals(ep, model.links().size());
  play_layers(context, totals, r, progress);
  if (model.calibrated()) record_calibration(*profile->calibrated_phases(), r);
  r.pricing_notes = model.pricing_notes();
  if (s.network.model != NetworkModelKind::Analytic && !flows)
    r.pricing_notes.push_back(kPastFlowBoundsNote);
  if (s.workload.kind == WorkloadKind::Training)
    add_training_step(context, totals, r);
  else {
    add_step_extras(s, model, r);
    add_mixed_prefill(inputs, r);
  }
  // Each TP group runs tokens_per_gpu; CP x DP of them in a pipeline stage.
  r.tokens_per_step = static_cast<double>(s.workload.tokens_per_gpu) *
                      s.parallelism.weight_replicas() * r.extras.accepted_tokens_per_sequence;
  r.imbalance = totals.sum_mean_load > 0 ? totals.sum_max_load / totals.sum_mean_load : 1.0;
  r.load_variation = {
      variation.active(), variation.sigma, variation.sampling,
      totals.sum_mean_load > 0 ? totals.sum_expected_max_load / totals.sum_mean_load : 1.0};
  record_gpus_and_links(context, totals, r);
  return r;
}

Report simulate(const ScenarioSpec& scenario, const ProgressCallback& progress,
                const SimulationOverrides& overrides) {
  return simulate(resolve_inputs(scenario, overrides), progress);
}

}  // namespace moesim::sim
