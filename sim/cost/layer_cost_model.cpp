#include "sim/cost/layer_cost_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "sim/cost/apply_calibration.hpp"
#include "sim/cost/attention_cost.hpp"
#include "sim/cost/layer_schedule.hpp"
#include "sim/network/deepep_cost.hpp"
#include "sim/network/dispatch_traffic.hpp"

namespace moesim::sim {
namespace {

// A measured op (gate, permute, unpermute) was timed alone and launched eagerly: its smallest
// point is launch-bound, k launches of the profile's empty-kernel time e. Replayed from a CUDA
// graph each launch takes the graph's kernel gap g instead, so the op saves k (e - g) = its
// smallest time x (1 - g / e) at every size (docs/decode-model.md, "Launching a step").
double graph_replayed_op_us(const Curve& curve, double tokens, double empty_kernel_us,
                            bool graphs) {
  const double eager = interpolate(curve, tokens);
  const double gap_us = kGraphKernelGap * 1e6;
  if (!graphs || empty_kernel_us <= gap_us || curve.empty()) return eager;
  return eager - curve.front().y * (1 - gap_us / empty_kernel_us);
}

}  // namespace

LayerCostModel::LayerCostModel(const ScenarioSpec& scenario, const MeasuredProfile* profile,
                               const NetworkModel* network)
    : s_(scenario),
      profile_(profile),
      curves_(profile ? profile->curves_for_shape(scenario.model) : nullptr),
      network_(network),
      group_collectives_(scenario, profile),
      moe_tp_group_(group_layout(scenario, GroupKind::MoeTensor)) {
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
  if (all_to_all_curve_ == nullptr)
    return s_.cluster.scale_up_link.efficiency > 0 ? s_.cluster.scale_up_link.efficiency
                                                   : s_.profile.network_efficiency;
  const Curve& busbw = all_to_all_curve_->busbw;
  const double rate = interpolate(busbw, std::clamp(rank_bytes, busbw.front().x, busbw.back().x));
  return std::min(1.0, rate / s_.cluster.system.scale_up_bandwidth);
}

double LayerCostModel::count_exchange_time(int ep) const {
  // A step captured in a CUDA graph cannot synchronise with the host to size its buffers.
  if (profile_ == nullptr || ep < 2 || s_.workload.cuda_graphs) return 0;
  const auto us = count_exchange_us(profile_->collectives(), ep, s_.model.experts);
  return us ? *us * 1e-6 : 0.0;
}

double LayerCostModel::dispatch_sequence_time(int ep) const {
  // Nor can it run the host-side sequence around the count exchange.
  if (profile_ == nullptr || ep < 2 || s_.workload.cuda_graphs) return 0;
  const auto us = dispatch_sequence_us(profile_->collectives(), ep, s_.model.experts);
  return us ? *us * 1e-6 : 0.0;
}

double LayerCostModel::scale_up_floor() const {
  if (all_to_all_times_ != nullptr) return all_to_all_times_->points.front().us * 1e-6;
  if (all_to_all_curve_ == nullptr) return 0;
  const CurvePoint& smallest = all_to_all_curve_->busbw.front();
  const double n = all_to_all_curve_->ranks;
  return smallest.x * (n - 1) / n / smallest.y;
}

int LayerCostModel::domain_size() const {
  // EP ranks stride over the MoE TP shards, so a domain holds a k-th as many of them.
  const int per_domain =
      std::max(1, s_.cluster.system.gpus_per_scale_up_domain / s_.parallelism.moe_tensor_parallel);
  return std::min(s_.parallelism.expert_parallel, per_domain);
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

double LayerCostModel::bf16_over_fp8() const {
  const auto& d = s_.cluster.device;
  return d.fp8_flops > 0 ? d.bf16_flops / d.fp8_flops : 1.0;
}

double LayerCostModel::dense_fp8_over_bf16(double rows, double weight_elements) const {
  const std::optional<double> measured =
      profile_ != nullptr ? profile_->fp8_over_bf16(rows, weight_elements) : std::nullopt;
  return measured.value_or(bf16_over_fp8());
}

double LayerCostModel::memory_rate() const {
  if (profile_ != nullptr) return profile_->copy_bandwidth();
  return s_.cluster.device.hbm_bandwidth * s_.profile.memory_efficiency;
}

double LayerCostModel::scale_up_rate() const { return group_collectives_.scale_up_rate(); }

double LayerCostModel::scale_out_rate() const { return group_collectives_.scale_out_rate(); }

LayerCost LayerCostModel::moe_layer(const Placement& placement, const std::vector<double>& load,
                                    double tokens_per_gpu, ExpertLoads loads) const {
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
  // A group limit changes only which tokens cross, so only deduplicated bytes need it.
  const DispatchTraffic traffic =
      plan_dispatch(placement, load, s_.policy.replica_choice, domain_size(), sending_tokens,
                    m.top_k, net.dedup ? GroupLimit{m.expert_groups, m.topk_groups} : GroupLimit{});
  cost.gpu_tokens = traffic.received;
  const double group_tokens = tokens_per_gpu * gpus;
  for (int g = 0; g < gpus; ++g)
    cost.gpu_compute[g] = gpu_experts_time(traffic.local_tokens[g], group_tokens, loads);

  // Gate (router GEMM) and permute (one read and one write of each token copy).
  const double gate_flops = 2 * token_bytes * m.experts * tokens_per_gpu;
  const double permute_bytes = 2 * tokens_per_gpu * m.top_k * token_bytes * m.dispatch_bytes;
  const auto measured_op = [&](const Curve& curve) {
    return graph_replayed_op_us(curve, tokens_per_gpu, profile_->empty_kernel_us(),
                                s_.workload.cuda_graphs) *
           1e-6;
  };
  cost.phases.gate =
      curves_ != nullptr
          ? measured_op(curves_->gate_us) + measured_op(curves_->permute_us)
          : std::max(gate_flops / compute_rate(),
                     (token_bytes * m.experts * m.weight_bytes + permute_bytes) / memory_rate());
  // DeepEP's kernels bring their own floor and count exchange (deepep_cost.hpp).
  const bool deepep = net.all_to_all != AllToAllKind::Nccl;
  // The count exchange and launch before each collective, as measured (0 without a profile).
  const double collective_overhead =
      profile_ != nullptr && !deepep ? profile_->collective_overhead_us() * 1e-6 : 0.0;

  // Analytic: each GPU's busier direction on its scale-up port and its NIC share, both at once;
  // the combine runs the dispatch backwards. Hierarchical adds the NVLink hop's latency.
  // (The flow model derives its own hops from the byte matrices.)
  const HopTokens hops =
      network_ == nullptr ? hop_tokens(traffic, net.dispatch, net.dedup) : HopTokens{};
  const bool fabric = traffic.domains > 1;
  const bool two_hops = fabric && net.dispatch == DispatchKind::Hierarchical;
  // A measured dispatch sequence (count exchange, host sync, receive-buffer sizing, regroup table
  // upload, the rows' exchange launched on the idle stream, regroup kernel: what the executor's
  // dispatch costs with one row per peer and expert) is the dispatch's fixed part; the rows add
  // their all-to-all beyond its floor and the regroup copy: each received copy read and written
  // once, expert-major after the dispatch and back in peer order before the combine.
  const double sequence = deepep ? 0.0 : dispatch_sequence_time(gpus);
  const auto regroup = [&](int g, double element_bytes) {
    return sequence > 0 ? 2 * traffic.received[g] * token_bytes * element_bytes / memory_rate()
                        : 0.0;
  };
  auto all_to_all = [&](double element_bytes, bool reverse, double floor_time,
                        std::vector<double>& per_gpu_time) {
    double slowest = 0;
    // A measured curve already holds the NVLink latency of a one-domain collective.
    const bool measured_latency =
        (all_to_all_curve_ != nullptr || all_to_all_times_ != nullptr) && !fabric;
    const double latency = (fabric             ? s_.cluster.nic.latency
                            : measured_latency ? 0.0
                                               : s_.cluster.system.scale_up_latency) +
                           (two_hops ? s_.cluster.system.scale_up_latency : 0.0) +
                           collective_overhead;
    const double bytes = deepep
                             ? deepep_copy_bytes(net.all_to_all, m.hidden, element_bytes, !reverse)
                             : token_bytes * element_bytes;
    const double rank_bytes = traffic.tokens_per_gpu * m.top_k * bytes;
    // The same for every GPU of the layer: rates from the cluster, the overlap's slowdown.
    const DeepEpRates deepep_rate = deepep_rates(s_);
    const double deepep_slowdown = deepep_overlapped_comm_factor(s_);
    for (int g = 0; g < gpus; ++g) {
      const double intra = std::max(hops.send_intra[g], hops.receive_intra[g]) * bytes;
      const double inter = std::max(hops.send_inter[g], hops.receive_inter[g]) * bytes;
      const double scale_up = std::max(0.0, scale_up_time(intra, rank_bytes) - floor_time);
      // EP 1 launches no DeepEP kernel.
      const double time =
          deepep ? (gpus > 1 ? deepep_transfer_time(deepep_rate, intra, fabric ? inter : 0.0) *
                                   deepep_slowdown
                             : 0.0)
                 : std::max(scale_up, fabric ? inter / scale_out_rate() : 0.0) + latency +
                       regroup(g, element_bytes);
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
    double slowest = 0;
    for (int g = 0; g < gpus; ++g) {
      per_gpu_time[g] += timing.gpu_time[g] + regroup(g, element_bytes);
      slowest = std::max(slowest, timing.gpu_time[g] + regroup(g, element_bytes));
    }
    cost.nvlink_bytes += timing.scale_up_bytes;
    cost.network_bytes += timing.scale_out_bytes;
    for (std::size_t link = 0; link < timing.link_bytes.size(); ++link)
      cost.link_bytes[link] += timing.link_bytes[link];
    return std::max(timing.time, slowest);
  };
  // The flow model has no floor of its own to take off after the sequence.
  const auto collective = [&](double element_bytes, bool reverse, double floor_time) {
    return network_ != nullptr
               ? flow_all_to_all(element_bytes, reverse, cost.gpu_communication)
               : all_to_all(element_bytes, reverse, floor_time, cost.gpu_communication);
  };
  // The count exchange that sizes each receive buffer (host synchronisation included) precedes the
  // dispatch on every GPU, inside the dispatch sequence where one was measured; profiles that
  // timed neither fold a count copy into each collective.
  cost.phases.count_exchange =
      deepep ? (gpus > 1 ? deepep_notify_time(net.all_to_all) : 0.0) : count_exchange_time(gpus);
  cost.phases.dispatch_fixed = sequence > 0 ? sequence : cost.phases.count_exchange;
  cost.phases.dispatch = collective(m.dispatch_bytes, false, sequence > 0 ? scale_up_floor() : 0) +
                         cost.phases.dispatch_fixed;
  for (double& time : cost.gpu_communication) time += cost.phases.dispatch_fixed;
  cost.dispatch_link_bytes = cost.link_bytes;  // the combine adds the rest
  cost.phases.combine = collective(m.combine_bytes, true, 0);
  // Unpermute (gathering expert outputs back into token order) ends the combine phase.
  if (curves_ != nullptr) cost.phases.combine += measured_op(curves_->unpermute_us);
  cost.phases.experts = *std::max_element(cost.gpu_compute.begin(), cost.gpu_compute.end());
  // Attention runs every token of the TP group on each of its ranks (tokens_per_gpu is one rank's
  // share of the MoE tokens).
  const double attention_tokens = tokens_per_gpu * s_.parallelism.attention_tensor_parallel;
  cost.phases.dense = dense_time(attention_tokens, true);
  share_sms_with_deepep(cost);
  if (calibrated_ != nullptr)
    apply_calibrated_phases(*calibrated_, m, tokens_per_gpu, traffic.local_tokens, cost);
  const double dense = cost.phases.dense;
  // MoE TP gathers what its shards compute: with EP, the copies each EP rank received (Megatron's
  // expert TP after the all-to-all); without, the tokens themselves, routed on every shard (the
  // serving stacks' fused MoE), so each row is gathered once however many experts it chose.
  add_moe_tp_collectives(gpus > 1
                             ? *std::max_element(traffic.received.begin(), traffic.received.end())
                             : tokens_per_gpu,
                         cost);
  cost.phases.tp_all_reduce = tp_collectives_time(attention_tokens, true);
  cost.phases.cp_kv_exchange = cp_kv_exchange(attention_tokens, false).seconds;
  cost.phases.dense = dense + cost.phases.tp_all_reduce + cost.phases.cp_kv_exchange;
  for (double& compute : cost.gpu_compute) compute += dense + cost.phases.gate;
  for (double& time : cost.gpu_communication)
    time += cost.phases.tp_all_reduce + cost.phases.cp_kv_exchange;
  if (s_.parallelism.overlap == Overlap::SingleBatch) {
    cost.phases.shared_experts = shared_experts_time(attention_tokens) * deepep_compute_factor();
    // The down projection holds a third of a gated expert's weights and FLOPs (gate and up two),
    // half of an ungated one's.
    cost.phases.experts_down = cost.phases.experts * (m.gated_ffn ? 1.0 / 3 : 0.5);
  }
  return cost;
}

double LayerCostModel::deepep_compute_factor() const {
  return profile_ != nullptr ? deepep_overlapped_compute_factor(s_, profile_->sm_count()) : 1.0;
}

void LayerCostModel::share_sms_with_deepep(LayerCost& cost) const {
  const double factor = deepep_compute_factor();
  if (factor == 1.0) return;
  cost.phases.dense *= factor;
  cost.phases.gate *= factor;
  cost.phases.experts *= factor;
  for (double& compute : cost.gpu_compute) compute *= factor;
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
