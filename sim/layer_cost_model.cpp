#include "sim/layer_cost_model.hpp"

#include "sim/layer_schedule.hpp"

#include <algorithm>
#include <numeric>

namespace moesim::sim {

LayerCostModel::LayerCostModel(const ScenarioSpec& scenario, const MeasuredProfile* profile, const NetworkModel* network)
    : s_(scenario), profile_(profile), curves_(profile ? profile->model(scenario.model.name) : nullptr), network_(network) {}

double LayerCostModel::compute_rate() const {
  const auto& d = s_.cluster.device;
  // A profile measured the bf16 GEMM rate; FP8 scales it by the datasheet's fp8/bf16 ratio.
  if (profile_ != nullptr)
    return profile_->dense_flops() * (s_.model.weight_bytes <= 1 ? d.fp8_flops / d.bf16_flops : 1.0);
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
  const double mlp_params = moe_layer ? static_cast<double>(m.shared_experts) * m.shared_expert_params()
                                      : static_cast<double>(m.dense_mlp_params());
  const double weights = static_cast<double>(m.attention_params_per_layer) / tp + mlp_params;
  const double flops = 2 * weights * tokens +
                       4 * tokens * attended * m.attention_heads * m.head_dim / tp;
  double bytes = weights * m.weight_bytes;
  if (decode)
    bytes += tokens * context * static_cast<double>(m.kv_cache_bytes_per_token_per_layer) / tp;
  return std::max(flops / compute_rate(), bytes / memory_rate());
}

double LayerCostModel::expert_time(double tokens) const {
  if (tokens <= 0) return 0;  // an idle expert's weights are never read
  const double params = static_cast<double>(s_.model.expert_params());
  return std::max(2 * params * tokens / compute_rate(), params * s_.model.weight_bytes / memory_rate());
}

double LayerCostModel::gpu_experts_time(const std::vector<double>& tokens) const {
  if (curves_ != nullptr) return profile_->experts_us(*curves_, tokens) * 1e-6;
  double total = 0;
  for (double t : tokens) total += expert_time(t);
  return total;
}

LayerCost LayerCostModel::moe_layer(const Placement& placement, const std::vector<double>& load,
                                   double tokens_per_gpu, std::optional<double> dispatched) const {
  const ModelSpec& m = s_.model;
  const int gpus = placement.gpus;
  const double token_bytes = static_cast<double>(m.hidden);
  LayerCost cost;
  cost.gpu_compute.assign(gpus, 0.0);
  cost.gpu_communication.assign(gpus, 0.0);

  // Expert GEMMs per GPU: each replica takes an equal share of its expert's tokens.
  std::vector<double> received(gpus, 0.0);
  std::vector<std::vector<double>> local_tokens(gpus);
  for (std::size_t e = 0; e < placement.replicas.size(); ++e) {
    const double share = load[e] / static_cast<double>(placement.replicas[e].size());
    for (int gpu : placement.replicas[e]) {
      received[gpu] += share;
      local_tokens[gpu].push_back(share);
    }
  }
  for (int g = 0; g < gpus; ++g) cost.gpu_compute[g] = gpu_experts_time(local_tokens[g]);
  const double total_received = std::accumulate(received.begin(), received.end(), 0.0);

  // Gate (router GEMM) and permute (one read and one write of each token copy).
  const double gate_flops = 2 * token_bytes * m.experts * tokens_per_gpu;
  const double permute_bytes = 2 * tokens_per_gpu * m.top_k * token_bytes * m.dispatch_bytes;
  cost.phases.gate = curves_ != nullptr
                         ? (interpolate(curves_->gate_us, tokens_per_gpu) + interpolate(curves_->permute_us, tokens_per_gpu)) * 1e-6
                         : std::max(gate_flops / compute_rate(),
                                    (token_bytes * m.experts * m.weight_bytes + permute_bytes) / memory_rate());
  // The count exchange and launch before each collective, as measured (0 without a profile).
  const double collective_overhead = profile_ != nullptr ? profile_->collective_overhead_us() * 1e-6 : 0.0;

  // All-to-all: every GPU sends its copies to GPU d in proportion to d's share of the load.
  // Bytes inside the scale-up domain ride NVLink/PCIe, the rest the NIC; both run at once.
  const int domain_size = std::min(gpus, s_.cluster.system.gpus_per_scale_up_domain);
  const int domains = (gpus + domain_size - 1) / domain_size;
  std::vector<double> domain_share(domains, 0.0);
  for (int g = 0; g < gpus; ++g)
    domain_share[g / domain_size] += total_received > 0 ? received[g] / total_received : 0.0;
  const double copies_per_gpu = dispatched.value_or(tokens_per_gpu * m.top_k);
  auto all_to_all = [&](double element_bytes, std::vector<double>& per_gpu_time) {
    double slowest = 0;
    const double latency = (domains > 1 ? s_.cluster.nic.latency : s_.cluster.system.scale_up_latency) + collective_overhead;
    for (int g = 0; g < gpus; ++g) {
      const int domain = g / domain_size;
      const int domain_members = std::min(domain_size, gpus - domain * domain_size);
      const double share = total_received > 0 ? received[g] / total_received : 0.0;
      const double send_intra = copies_per_gpu * (domain_share[domain] - share);
      const double send_inter = copies_per_gpu * (1.0 - domain_share[domain]);
      const double recv_intra = copies_per_gpu * share * (domain_members - 1);
      const double recv_inter = copies_per_gpu * share * (gpus - domain_members);
      const double intra = std::max(send_intra, recv_intra) * token_bytes * element_bytes;
      const double inter = std::max(send_inter, recv_inter) * token_bytes * element_bytes;
      const double time =
          std::max(intra / scale_up_rate(), domains > 1 ? inter / scale_out_rate() : 0.0) + latency;
      per_gpu_time[g] += time;
      slowest = std::max(slowest, time);
      cost.nvlink_bytes += send_intra * token_bytes * element_bytes;
      cost.network_bytes += send_inter * token_bytes * element_bytes;
    }
    return slowest;
  };
  // Played on the topology: every GPU sends its copies to GPU d in proportion to d's share.
  auto flow_all_to_all = [&](double element_bytes, std::vector<double>& per_gpu_time) {
    ByteMatrix bytes(gpus, std::vector<Bytes>(gpus, 0.0));
    for (int src = 0; src < gpus; ++src)
      for (int dst = 0; dst < gpus; ++dst)
        if (src != dst && total_received > 0)
          bytes[src][dst] = copies_per_gpu * received[dst] / total_received * token_bytes * element_bytes;
    const CollectiveTiming timing = network_->all_to_all(bytes);
    for (int g = 0; g < gpus; ++g) per_gpu_time[g] += timing.gpu_time[g];
    cost.nvlink_bytes += timing.scale_up_bytes;
    cost.network_bytes += timing.scale_out_bytes;
    return timing.time;
  };
  if (network_ != nullptr) {
    cost.phases.dispatch = flow_all_to_all(m.dispatch_bytes, cost.gpu_communication);
    cost.phases.combine = flow_all_to_all(m.combine_bytes, cost.gpu_communication);
  } else {
    cost.phases.dispatch = all_to_all(m.dispatch_bytes, cost.gpu_communication);
    cost.phases.combine = all_to_all(m.combine_bytes, cost.gpu_communication);
  }
  // Unpermute (gathering expert outputs back into token order) ends the combine phase.
  if (curves_ != nullptr) cost.phases.combine += interpolate(curves_->unpermute_us, tokens_per_gpu) * 1e-6;
  cost.phases.experts = *std::max_element(cost.gpu_compute.begin(), cost.gpu_compute.end());
  cost.phases.dense = dense_time(tokens_per_gpu, true);
  for (double& compute : cost.gpu_compute) compute += cost.phases.dense + cost.phases.gate;
  return cost;
}

double LayerCostModel::layer_total(const PhaseTimes& p) const {
  return schedule_layer(p, s_.parallelism.micro_batches, s_.parallelism.overlap).makespan;
}

double LayerCostModel::all_reduce_time(double bytes, int ranks) const {
  if (ranks <= 1 || bytes <= 0) return 0;
  const bool crosses_domains = s_.cluster.gpus() > s_.cluster.system.gpus_per_scale_up_domain;
  const double rate = crosses_domains ? scale_out_rate() : scale_up_rate();
  return 2.0 * (ranks - 1) / ranks * bytes / rate;
}

}  // namespace moesim::sim
