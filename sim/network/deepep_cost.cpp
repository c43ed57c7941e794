#include "sim/network/deepep_cost.hpp"

#include <algorithm>

namespace moesim::sim {

double deepep_copy_bytes(AllToAllKind kind, int hidden, double element_bytes, bool dispatch) {
  const double payload = hidden * element_bytes;
  // One fp32 scale per 128 FP8 elements.
  const double scales = element_bytes <= 1 ? hidden / 128.0 * 4 : 0.0;
  const double header = kind == AllToAllKind::DeepEpLowLatency && dispatch ? 16.0 : 0.0;
  return payload + scales + header;
}

DeepEpRates deepep_rates(const ScenarioSpec& scenario) {
  const ClusterSpec& c = scenario.cluster;
  DeepEpRates rates;
  rates.nvlink = c.system.scale_up_bandwidth;
  rates.nic = c.nic.bandwidth * c.system.nics_per_node / c.system.gpus_per_node /
              c.oversubscription * (c.fabric == FabricKind::Roce ? c.roce_efficiency : 1.0);
  if (c.scale_up_link.efficiency > 0) rates.nvlink_efficiency = c.scale_up_link.efficiency;
  if (c.nic_link.efficiency > 0) rates.nic_efficiency = c.nic_link.efficiency;
  return rates;
}

double deepep_transfer_time(const DeepEpRates& rates, double intra_bytes, double inter_bytes) {
  const double nvlink =
      intra_bytes > 0 ? intra_bytes / (rates.nvlink * rates.nvlink_efficiency) : 0.0;
  const double rdma = inter_bytes > 0 ? inter_bytes / (rates.nic * rates.nic_efficiency) : 0.0;
  return kDeepEpFloorSeconds + std::max(nvlink, rdma);
}

namespace {

// Normal kernels at EP > 1 while an overlap (any but none) runs compute beside.
bool normal_kernels_beside_compute(const ScenarioSpec& scenario) {
  const bool overlapped = scenario.parallelism.overlap != Overlap::None;
  return scenario.network.all_to_all == AllToAllKind::DeepEpNormal && overlapped &&
         scenario.parallelism.expert_parallel >= 2;
}

}  // namespace

double deepep_overlapped_compute_factor(const ScenarioSpec& scenario, int sms) {
  if (!normal_kernels_beside_compute(scenario) || sms <= kDeepEpNormalSms) return 1.0;
  return static_cast<double>(sms) / (sms - kDeepEpNormalSms) * kGemmBesideResidentKernelExcess;
}

double deepep_overlapped_comm_factor(const ScenarioSpec& scenario) {
  return normal_kernels_beside_compute(scenario) ? kDeepEpOverlappedSlowdown : 1.0;
}

double deepep_notify_time(AllToAllKind kind) {
  return kind == AllToAllKind::DeepEpNormal ? kDeepEpFloorSeconds : 0.0;
}

}  // namespace moesim::sim
