#include "sim/cost/layer_cost_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "sim/cost/layer_schedule.hpp"
#include "sim/network/dispatch_traffic.hpp"

namespace moesim::sim {
namespace {

// Calibrated curves replace the phases they price (docs/calibrate.md). The simulator's gate phase
// is the stack's gate + permute and its combine the stack's combine + unpermute; a merged phase
// comes from calibration when any of its parts does. One rank exchanges nothing.
void apply_calibrated_phases(const CalibratedPhases& phases, const ModelSpec& m,
                             double tokens_per_gpu,
                             const std::vector<std::vector<double>>& local_tokens,
                             LayerCost& cost) {
  const LayerShape shape{static_cast<double>(m.hidden),
                         static_cast<double>(m.expert_ffn),
                         static_cast<double>(m.experts),
                         static_cast<double>(m.top_k),
                         m.gated_ffn,
                         m.dispatch_bytes,
                         m.weight_bytes};
  const CalibratedLayer layer = price_calibrated_layer(phases, shape, tokens_per_gpu, local_tokens);
  double calibrated = 0;
  const auto take = [&](std::initializer_list<CalibratedPhase> parts, double& phase) {
    std::optional<double> total;
    for (CalibratedPhase part : parts)
      if (const auto s = layer.phase_s[static_cast<std::size_t>(part)])
        total = total.value_or(0) + *s;
    if (!total) return false;
    phase = *total;
    calibrated += *total;
    return true;
  };
  const bool one_rank = local_tokens.size() < 2;
  take({CalibratedPhase::Gate, CalibratedPhase::Permute}, cost.phases.gate);
  const bool dispatch = take({CalibratedPhase::Dispatch}, cost.phases.dispatch);
  if (dispatch || one_rank)
    cost.phases.count_exchange = 0;  // the stack's dispatch time holds its own count exchange
  if (one_rank) cost.phases.dispatch = 0;
  const bool combine =
      take({CalibratedPhase::Combine, CalibratedPhase::Unpermute}, cost.phases.combine);
  take({CalibratedPhase::Dense}, cost.phases.dense);
  for (std::size_t g = 0; g < layer.gpu_experts_s.size() && g < cost.gpu_compute.size(); ++g)
    cost.gpu_compute[g] = layer.gpu_experts_s[g];
  if (!layer.gpu_experts_s.empty()) {
    cost.phases.experts = *std::max_element(cost.gpu_compute.begin(), cost.gpu_compute.end());
    calibrated += cost.phases.experts;
  }
  if (dispatch || combine || one_rank)  // the stack's collectives wait for the slowest rank
    for (double& communication : cost.gpu_communication)
      communication = cost.phases.dispatch + cost.phases.combine;
  cost.phases.calibrated = calibrated;
  cost.phases.band = layer.band;
}

}  // namespace

LayerCostModel::LayerCostModel(const ScenarioSpec& scenario, const MeasuredProfile* profile,
                               const NetworkModel* network)
    : s_(scenario),
      profile_(profile),
      curves_(profile ? profile->model(scenario.model.name) : nullptr),
      network_(network) {
  if (profile_ != nullptr) {
    calibrated_ = profile_->calibrated_phases();
    all_to_all_curve_ = profile_->all_to_all_curve(domain_size());
    if (domain_size() >= 2)
      all_to_all_times_ = nearest_all_to_all(profile_->collectives(), domain_size());
  }
  if (network_ != nullptr) {
    links_ = network_->costed_links();
    return;
  }
  // The analytic model's links: per GPU its scale-up port and its share of the node's NICs.
  const auto& c = s_.cluster;
  const std::string scale_up(topology::scale_up_kind_name(c.system.scale_up_kind));
  const std::string nic = c.fabric == FabricKind::Roce ? "roce" : "ib";
  const double nic_share = c.nic.bandwidth * c.system.nics_per_node / c.system.gpus_per_node;
  for (int g = 0; g < s_.parallelism.expert_parallel; ++g) {
    links_.push_back(
        {fmt::format("gpu{} {} out", g, scale_up), scale_up, c.system.scale_up_bandwidth});
    links_.push_back(
        {fmt::format("gpu{} {} in", g, scale_up), scale_up, c.system.scale_up_bandwidth});
    links_.push_back({fmt::format("gpu{} nic out", g), nic, nic_share});
    links_.push_back({fmt::format("gpu{} nic in", g), nic, nic_share});
  }
}

std::string LayerCostModel::collective_source() const {
  if (all_to_all_times_ != nullptr)
    return fmt::format("measured NCCL all-to-all times ({} ranks, {} sizes, log-log between them)",
                       all_to_all_times_->ranks, all_to_all_times_->points.size());
  if (all_to_all_curve_ == nullptr) return "line rate x network_efficiency";
  return fmt::format("measured NCCL all-to-all curve ({} ranks, {} sizes)",
                     all_to_all_curve_->ranks, all_to_all_curve_->busbw.size());
}

double LayerCostModel::scale_up_time(double bytes, double rank_bytes) const {
  if (all_to_all_times_ != nullptr) {
    if (bytes <= 0) return 0;
    // An even all-to-all of R bytes per rank moves R (n-1)/n across each port; this port's bytes
    // are that of an even collective of bytes * n / (n-1) per rank.
    const double n = all_to_all_times_->ranks;
    return loglog_interpolate(all_to_all_times_->points, bytes * n / (n - 1)) * 1e-6;
  }
  if (all_to_all_curve_ == nullptr) return bytes / scale_up_rate();
  const Curve& busbw = all_to_all_curve_->busbw;
  if (bytes <= 0) return 0;
  // Below the smallest measured size the collective costs what that size cost: its fixed part.
  // busbw counts (n-1)/n of each rank's bytes (nccl-tests), which is what crosses the port.
  const double n = all_to_all_curve_->ranks;
  if (rank_bytes <= busbw.front().x) return busbw.front().x * (n - 1) / n / busbw.front().y;
  return bytes / interpolate(busbw, std::min(rank_bytes, busbw.back().x));
}

double LayerCostModel::scale_up_efficiency(double rank_bytes) const {
  if (all_to_all_curve_ == nullptr) return s_.profile.network_efficiency;
  const Curve& busbw = all_to_all_curve_->busbw;
  const double rate = interpolate(busbw, std::clamp(rank_bytes, busbw.front().x, busbw.back().x));
  return std::min(1.0, rate / s_.cluster.system.scale_up_bandwidth);
}

double LayerCostModel::count_exchange_time(int ep) const {
  if (profile_ == nullptr || ep < 2) return 0;
  const auto us = count_exchange_us(profile_->collectives(), ep, s_.model.experts);
  return us ? *us * 1e-6 : 0.0;
}

int LayerCostModel::domain_size() const {
  return std::min(s_.parallelism.expert_parallel, s_.cluster.system.gpus_per_scale_up_domain);
}

double LayerCostModel::compute_rate() const {
  const auto& d = s_.cluster.device;
  // A profile measured the bf16 GEMM rate; FP8 scales it by the datasheet's fp8/bf16 ratio.
  if (profile_ != nullptr)
    return profile_->dense_flops() *
           (s_.model.weight_bytes <= 1 ? d.fp8_flops / d.bf16_flops : 1.0);
  // One-byte weights run the FP8 tensor path, as DeepSeek's FP8 GEMMs do.
  return (s_.model.weight_bytes <= 1 ? d.fp8_flops : d.bf16_flops) * s_.profile.compute_efficiency;
}

double LayerCostModel::memory_rate() const {
  if (profile_ != nullptr) return profile_->copy_bandwidth();
  return s_.cluster.device.hbm_bandwidth * s_.profile.memory_efficiency;
}

double LayerCostModel::scale_up_rate() const {
  return s_.cluster.system.scale_up_bandwidth * s_.profile.network_efficiency;
}

double LayerCostModel::scale_out_rate() const {
  const auto& c = s_.cluster;
  double rate = c.nic.bandwidth * c.system.nics_per_node / c.system.gpus_per_node;
  if (c.fabric == FabricKind::Roce) rate *= c.roce_efficiency;
  return rate * s_.profile.network_efficiency / c.oversubscription;
}

double LayerCostModel::dense_time(double tokens, bool moe_layer) const {
  const ModelSpec& m = s_.model;
  const double tp = s_.parallelism.attention_tensor_parallel;
  const bool decode = s_.workload.kind == WorkloadKind::Decode;
  const double context = static_cast<double>(s_.workload.context_tokens);
  // Causal prefill attends on average over half the context; decode over all of it.
  const double attended = decode ? context : context / 2;
  const double mlp_params = moe_layer
                                ? static_cast<double>(m.shared_experts) * m.shared_expert_params()
                                : static_cast<double>(m.dense_mlp_params());
  const double weights = static_cast<double>(m.attention_params_per_layer) / tp + mlp_params;
  const double flops =
      2 * weights * tokens + 4 * tokens * attended * m.attention_heads * m.head_dim / tp;
  double bytes = weights * m.weight_bytes;
  if (decode)
    bytes += tokens * context * static_cast<double>(m.kv_cache_bytes_per_token_per_layer) / tp;
  return std::max(flops / compute_rate(), bytes / memory_rate());
}

double LayerCostModel::expert_time(double tokens) const {
  if (tokens <= 0) return 0;  // an idle expert's weights are never read
  const double params = static_cast<double>(s_.model.expert_params());
  return std::max(2 * params * tokens / compute_rate(),
                  params * s_.model.weight_bytes / memory_rate());
}

double LayerCostModel::gpu_experts_time(const std::vector<double>& tokens) const {
  if (curves_ != nullptr) return profile_->experts_us(*curves_, tokens) * 1e-6;
  double total = 0;
  for (double t : tokens) total += expert_time(t);
  return total;
}

LayerCost LayerCostModel::moe_layer(const Placement& placement, const std::vector<double>& load,
                                    double tokens_per_gpu) const {
  const ModelSpec& m = s_.model;
  const NetworkSpec& net = s_.network;
  const int gpus = placement.gpus;
  const double token_bytes = static_cast<double>(m.hidden);
  LayerCost cost;
  cost.gpu_compute.assign(gpus, 0.0);
  cost.gpu_communication.assign(gpus, 0.0);
  cost.link_bytes.assign(links_.size(), 0.0);

  // Copies actually sent: dropped copies never leave their GPU, padding does (pad-to-capacity
  // ships the full buffer), so the load's total sets the volume.
  const double total_load = std::accumulate(load.begin(), load.end(), 0.0);
  const double routed = tokens_per_gpu * m.top_k * gpus;
  const double sending_tokens = routed > 0 ? tokens_per_gpu * total_load / routed : 0.0;
  const DispatchTraffic traffic = plan_dispatch(placement, load, s_.policy.replica_choice,
                                                domain_size(), sending_tokens, m.top_k);
  cost.gpu_tokens = traffic.received;
  for (int g = 0; g < gpus; ++g) cost.gpu_compute[g] = gpu_experts_time(traffic.local_tokens[g]);

  // Gate (router GEMM) and permute (one read and one write of each token copy).
  const double gate_flops = 2 * token_bytes * m.experts * tokens_per_gpu;
  const double permute_bytes = 2 * tokens_per_gpu * m.top_k * token_bytes * m.dispatch_bytes;
  cost.phases.gate =
      curves_ != nullptr
          ? (interpolate(curves_->gate_us, tokens_per_gpu) +
             interpolate(curves_->permute_us, tokens_per_gpu)) *
                1e-6
          : std::max(gate_flops / compute_rate(),
                     (token_bytes * m.experts * m.weight_bytes + permute_bytes) / memory_rate());
  // The count exchange and launch before each collective, as measured (0 without a profile).
  const double collective_overhead =
      profile_ != nullptr ? profile_->collective_overhead_us() * 1e-6 : 0.0;

  // Analytic: each GPU's busier direction on its scale-up port and its NIC share, both at once;
  // the combine runs the dispatch backwards. Hierarchical adds the NVLink hop's latency.
  // (The flow model derives its own hops from the byte matrices.)
  const HopTokens hops =
      network_ == nullptr ? hop_tokens(traffic, net.dispatch, net.dedup) : HopTokens{};
  const bool fabric = traffic.domains > 1;
  const bool two_hops = fabric && net.dispatch == DispatchKind::Hierarchical;
  auto all_to_all = [&](double element_bytes, bool reverse, std::vector<double>& per_gpu_time) {
    double slowest = 0;
    // A measured curve already holds the NVLink latency of a one-domain collective.
    const bool measured_latency =
        (all_to_all_curve_ != nullptr || all_to_all_times_ != nullptr) && !fabric;
    const double latency = (fabric             ? s_.cluster.nic.latency
                            : measured_latency ? 0.0
                                               : s_.cluster.system.scale_up_latency) +
                           (two_hops ? s_.cluster.system.scale_up_latency : 0.0) +
                           collective_overhead;
    const double bytes = token_bytes * element_bytes;
    const double rank_bytes = traffic.tokens_per_gpu * m.top_k * bytes;
    for (int g = 0; g < gpus; ++g) {
      const double intra = std::max(hops.send_intra[g], hops.receive_intra[g]) * bytes;
      const double inter = std::max(hops.send_inter[g], hops.receive_inter[g]) * bytes;
      const double time =
          std::max(scale_up_time(intra, rank_bytes), fabric ? inter / scale_out_rate() : 0.0) +
          latency;
      per_gpu_time[g] += time;
      slowest = std::max(slowest, time);
      cost.nvlink_bytes += hops.send_intra[g] * bytes;
      cost.network_bytes += hops.send_inter[g] * bytes;
      const auto port = static_cast<std::size_t>(g) * 4;
      cost.link_bytes[port + (reverse ? 1 : 0)] += hops.send_intra[g] * bytes;
      cost.link_bytes[port + (reverse ? 0 : 1)] += hops.receive_intra[g] * bytes;
      cost.link_bytes[port + (reverse ? 3 : 2)] += hops.send_inter[g] * bytes;
      cost.link_bytes[port + (reverse ? 2 : 3)] += hops.receive_inter[g] * bytes;
    }
    return slowest;
  };
  // Played on the topology's links, max-min fair (docs/network-model.md).
  auto flow_all_to_all = [&](double element_bytes, bool reverse,
                             std::vector<double>& per_gpu_time) {
    const double bytes = token_bytes * element_bytes;
    ByteMatrix matrix = gpu_byte_matrix(traffic, net.dedup, bytes);
    ByteMatrix fabric_leg =
        two_hops && net.dedup ? domain_byte_matrix(traffic, true, bytes) : ByteMatrix{};
    if (reverse) {  // the combine: every GPU returns what it received
      for (int a = 0; a < gpus; ++a)
        for (int b = a + 1; b < gpus; ++b) std::swap(matrix[a][b], matrix[b][a]);
      // The relay reduces a token's copies before the fabric leg back, so GPU x returns to domain
      // n what n's GPU on x's rail sent to x's domain.
      if (!fabric_leg.empty()) {
        ByteMatrix back = fabric_leg;
        for (int x = 0; x < gpus; ++x)
          for (int n = 0; n < traffic.domains; ++n)
            if (n != traffic.domain_of(x))
              back[x][n] = fabric_leg[n * traffic.domain_size + x % traffic.domain_size]
                                     [traffic.domain_of(x)];
        fabric_leg = std::move(back);
      }
    }
    const double rank_bytes = traffic.tokens_per_gpu * m.top_k * bytes;
    const CollectiveTiming timing =
        network_->all_to_all(matrix, fabric_leg, scale_up_efficiency(rank_bytes));
    for (int g = 0; g < gpus; ++g) per_gpu_time[g] += timing.gpu_time[g];
    cost.nvlink_bytes += timing.scale_up_bytes;
    cost.network_bytes += timing.scale_out_bytes;
    for (std::size_t link = 0; link < timing.link_bytes.size(); ++link)
      cost.link_bytes[link] += timing.link_bytes[link];
    return timing.time;
  };
  const auto collective = [&](double element_bytes, bool reverse) {
    return network_ != nullptr ? flow_all_to_all(element_bytes, reverse, cost.gpu_communication)
                               : all_to_all(element_bytes, reverse, cost.gpu_communication);
  };
  // The count exchange that sizes each receive buffer (host synchronisation included) precedes the
  // dispatch on every GPU; profiles that did not time it fold a count copy into each collective.
  const double exchange = count_exchange_time(gpus);
  cost.phases.dispatch = collective(m.dispatch_bytes, false) + exchange;
  cost.phases.count_exchange = exchange;
  for (double& time : cost.gpu_communication) time += exchange;
  cost.phases.combine = collective(m.combine_bytes, true);
  // Unpermute (gathering expert outputs back into token order) ends the combine phase.
  if (curves_ != nullptr)
    cost.phases.combine += interpolate(curves_->unpermute_us, tokens_per_gpu) * 1e-6;
  cost.phases.experts = *std::max_element(cost.gpu_compute.begin(), cost.gpu_compute.end());
  cost.phases.dense = dense_time(tokens_per_gpu, true);
  if (calibrated_ != nullptr)
    apply_calibrated_phases(*calibrated_, m, tokens_per_gpu, traffic.local_tokens, cost);
  for (double& compute : cost.gpu_compute) compute += cost.phases.dense + cost.phases.gate;
  return cost;
}

LayerSchedule LayerCostModel::schedule(const PhaseTimes& p) const {
  return schedule_layer(p, s_.parallelism.micro_batches, s_.parallelism.overlap);
}

double LayerCostModel::all_reduce_time(double bytes, int ranks) const {
  if (ranks <= 1 || bytes <= 0) return 0;
  const bool crosses_domains = s_.cluster.gpus() > s_.cluster.system.gpus_per_scale_up_domain;
  const double rate = crosses_domains ? scale_out_rate() : scale_up_rate();
  return 2.0 * (ranks - 1) / ranks * bytes / rate;
}

}  // namespace moesim::sim
