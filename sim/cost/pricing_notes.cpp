// What the report says about how a scenario was priced: borrowed or scaled curves, the source of
// each collective's figures, and the MoE TP collectives around the experts. Members of
// LayerCostModel.
#include <fmt/format.h>

#include <algorithm>

#include "sim/cost/layer_cost_model.hpp"
#include "sim/network/deepep_cost.hpp"

namespace moesim::sim {
namespace {

std::string device_scaling_note(const DeviceScaling& scaling) {
  return fmt::format(
      "no {0} profile: {1}'s measured curves scaled to {0} by the datasheets (HBM x{2:.2f}, "
      "BF16 x{3:.2f}) point by point on each one's roofline, launch floors and memory-latency "
      "waits kept; communication from {0}'s links",
      scaling.device, scaling.measured_on, scaling.memory_ratio, scaling.compute_ratio);
}

}  // namespace

std::string LayerCostModel::collective_source() const {
  if (s_.network.all_to_all != AllToAllKind::Nccl)
    return fmt::format(
        "{} kernels: {:.0f} us floor + bytes at DeepEP's share of line rate "
        "(NVLink {:.2f}, RDMA {:.2f})",
        choice_name(s_.network.all_to_all), kDeepEpFloorSeconds * 1e6,
        deepep_rates(s_).nvlink_efficiency, deepep_rates(s_).nic_efficiency);
  const std::string sequence =
      dispatch_sequence_time(s_.parallelism.expert_parallel) > 0
          ? "; dispatch from the measured dispatch sequence plus the rows beyond the floor and "
            "the regroup copy"
          : "";
  if (all_to_all_times_ != nullptr)
    return fmt::format(
        "measured NCCL all-to-all times ({} ranks, {} sizes, log-log between them){}",
        all_to_all_times_->ranks, all_to_all_times_->points.size(), sequence);
  if (all_to_all_curve_ == nullptr) return "line rate x network_efficiency";
  return fmt::format("measured NCCL all-to-all curve ({} ranks, {} sizes)",
                     all_to_all_curve_->ranks, all_to_all_curve_->busbw.size());
}

std::string LayerCostModel::profile_source() const {
  if (calibrated()) return "calibrated";
  if (!measured()) return "roofline";
  return profile_->device_scaling() ? "device-scaled" : "measured";
}

// How FP8 (and FP4) GEMMs were priced: measured ratios, borrowed ones or the datasheet's.
void LayerCostModel::add_fp8_notes(std::vector<std::string>& notes) const {
  if (curves_ != nullptr && s_.model.weight_bytes < 1)
    notes.push_back("FP4 experts priced as FP8 (no measured FP4 GEMMs)");
  if (curves_ != nullptr && s_.model.weight_bytes <= 1)
    notes.push_back(
        profile_->has_fp8_gemm()
            ? "FP8 experts: BF16 curves x the profile's measured FP8/BF16 GEMM time ratio at the "
              "nearest measured expert shape"
            : fmt::format("FP8 experts: BF16 curves x {:.2f}, the {} datasheet's BF16/FP8 rate "
                          "(the profile measured no FP8 GEMMs)",
                          bf16_over_fp8(), s_.cluster.device.name));
  if (profile_ != nullptr && s_.model.weight_bytes <= 1 && profile_->has_fp8_gemm())
    notes.push_back(
        "FP8 dense GEMMs: the measured BF16 rate / the FP8/BF16 GEMM time ratio at the "
        "nearest measured shape and the block's rows");
  if (profile_ != nullptr && s_.model.weight_bytes <= 1 && s_.model.weight_scale_block > 0 &&
      profile_->has_fp8_gemm())
    notes.push_back(profile_->has_fp8_block_gemm()
                        ? "FP8 GEMMs block-scaled (weight_scale_block 128): x the measured "
                          "block-scaled/per-tensor FP8 time ratio at the nearest shape and rows"
                        : "FP8 GEMMs block-scaled (weight_scale_block 128) priced as per-tensor "
                          "FP8: the profile measured no fp8_block_gemm");
  if (profile_ != nullptr && !profile_->fp8_ratios_from().empty())
    notes.push_back(
        fmt::format("FP8 GEMM time ratios this profile lacks (FP8/BF16 or block-scaled) "
                    "measured on {} (the same tensor cores)",
                    profile_->fp8_ratios_from()));
}

std::vector<std::string> LayerCostModel::pricing_notes() const {
  std::vector<std::string> notes;
  if (profile_ != nullptr && profile_->device_scaling())
    notes.push_back(device_scaling_note(*profile_->device_scaling()));
  else if (profile_ != nullptr && !profile_->device_preset().empty() &&
           profile_->device_preset() != s_.cluster.device.name)
    notes.push_back(fmt::format("profile measured on {} prices a {} (profile.allow_other_device)",
                                profile_->gpu_name(), s_.cluster.device.name));
  if (curves_ != nullptr && curves_->name != s_.model.name)
    notes.push_back(
        fmt::format("expert, gate and permute curves measured for {} (same shape)", curves_->name));
  add_fp8_notes(notes);
  if (auto note = attention_core_note()) notes.push_back(std::move(*note));
  if (deepep_compute_factor() != 1.0)
    notes.push_back(fmt::format(
        "MoE blocks' compute x {:.3f}: DeepEP's normal kernels hold {} of the {} SMs while the "
        "overlap runs them beside it, and GEMMs beside a resident kernel lose x {:.3f} more "
        "(measured on H200)",
        deepep_compute_factor(), kDeepEpNormalSms, profile_->sm_count(),
        kGemmBesideResidentKernelExcess));
  if (const double slowdown = deepep_overlapped_comm_factor(s_); slowdown != 1.0)
    notes.push_back(fmt::format(
        "DeepEP's normal kernels x {:.2f} beside compute (DeepSeek's prefill profile over DeepEP's "
        "unit tests)",
        slowdown));
  if (s_.workload.cuda_graphs && profile_ != nullptr && s_.parallelism.expert_parallel > 1)
    notes.push_back("CUDA graphs: no count exchange (a captured step keeps fixed-size buffers)");
  // Which curve or default priced the TP collectives (their source does not depend on the size).
  constexpr double kProbeBytes = 1 << 20;
  const int tp = s_.parallelism.attention_tensor_parallel;
  if (tp > 1)
    notes.push_back(fmt::format("attention TP all_reduce ({} GPUs): {}", tp,
                                tp_all_reduce(kProbeBytes / 2 / s_.model.hidden).source));
  const int cp = s_.parallelism.context_parallel;
  if (cp > 1)
    notes.push_back(
        fmt::format("context-parallel KV send/recv (ring of {} GPUs, exposed beyond "
                    "each step's attention): {}",
                    cp, cp_kv_exchange(kProbeBytes / 2 / s_.model.hidden, false).source));
  if (moe_tp_group_.size > 1)
    for (CollectiveKind kind : {CollectiveKind::AllGather, CollectiveKind::ReduceScatter})
      notes.push_back(
          fmt::format("MoE TP {} ({} GPUs): {}", collective_kind_name(kind), moe_tp_group_.size,
                      group_collectives_.price(kind, kProbeBytes, moe_tp_group_).source));
  return notes;
}

std::optional<std::string> LayerCostModel::attention_core_note() const {
  const AttentionCoreCurve* curve = profile_ != nullptr ? profile_->attention_core() : nullptr;
  const WorkloadSpec& w = s_.workload;
  // A decode step's prompt chunks (mixed_prefill) attend causally over their prompts.
  const double prompt = w.kind != WorkloadKind::Decode ? static_cast<double>(w.context_tokens)
                        : w.prefill_tokens_per_step() > 0
                            ? static_cast<double>(w.mixed_prefill.input_tokens)
                            : 0.0;
  if (curve == nullptr || prompt <= 0) return std::nullopt;
  const int cp = s_.parallelism.context_parallel;
  const double kernel_prompt = causal_kernel_prompt(prompt);
  const bool inside =
      kernel_prompt >= curve->smallest_prompt() && kernel_prompt <= curve->largest_prompt();
  const std::string& lent_by = profile_->attention_core_from();
  const std::string source =
      profile_->device_scaling()
          ? fmt::format("; measured on {}, kept as a share of the scaled GEMM rate",
                        profile_->device_scaling()->measured_on)
      : lent_by.empty() ? ""
                        : fmt::format("; measured on {} (the same tensor cores)", lent_by);
  const std::string chunks =
      cp > 1 ? fmt::format(" in chunks of {:.0f} (context parallel {})", kernel_prompt, cp) : "";
  return fmt::format(
      "causal attention core at {:.0f}-token prompts{}: {:.2f} x the GEMM rate, the profile's "
      "measured fused-attention rate ({}measured {:.0f}-{:.0f}){}",
      prompt, chunks, causal_attention_share(prompt), inside ? "" : "the nearest point; ",
      curve->smallest_prompt(), curve->largest_prompt(), source);
}

void LayerCostModel::add_moe_tp_collectives(double received, LayerCost& cost) const {
  if (moe_tp_group_.size <= 1 || received <= 0) return;
  // Each shard gathers its peers' rows (the all-gather's output is k of them) and reduce-scatters
  // the partial sums of their outputs back (at the combine's element size).
  const double k = moe_tp_group_.size;
  const double hidden = static_cast<double>(s_.model.hidden);
  cost.phases.moe_tp_all_gather =
      group_collectives_
          .price(CollectiveKind::AllGather, k * received * hidden * s_.model.dispatch_bytes,
                 moe_tp_group_)
          .seconds;
  cost.phases.moe_tp_reduce_scatter =
      group_collectives_
          .price(CollectiveKind::ReduceScatter, k * received * hidden * s_.model.combine_bytes,
                 moe_tp_group_)
          .seconds;
  // Each shard passes on (k - 1) / k of the all-gather's output (k x received rows), and of the
  // reduce-scatter's input at the combine's element size, to the next shard of its ring.
  place_moe_tp_bytes(
      (k - 1) * received * hidden * (s_.model.dispatch_bytes + s_.model.combine_bytes), cost);
  cost.phases.dispatch += cost.phases.moe_tp_all_gather;
  cost.phases.combine += cost.phases.moe_tp_reduce_scatter;
  for (double& time : cost.gpu_communication)
    time += cost.phases.moe_tp_all_gather + cost.phases.moe_tp_reduce_scatter;
}

}  // namespace moesim::sim

namespace moesim::sim {

void LayerCostModel::place_moe_tp_bytes(double bytes_per_hop, LayerCost& cost) const {
  if (network_ != nullptr) {  // on the graph's links, as the flow model routes them
    const MoeTpRingBytes placed = network_->moe_tp_ring_bytes(bytes_per_hop);
    for (std::size_t link = 0; link < placed.link_bytes.size(); ++link)
      cost.link_bytes[link] += placed.link_bytes[link];
    cost.nvlink_bytes += placed.scale_up_bytes;
    cost.network_bytes += placed.scale_out_bytes;
    return;
  }
  // Analytic: each EP rank's GPU is one shard; a ring over d domains crosses the fabric on d of
  // its k hops.
  const double k = moe_tp_group_.size;
  const double across = moe_tp_group_.crosses_domains() ? moe_tp_group_.domains / k : 0.0;
  for (std::size_t g = 0; g < cost.gpu_communication.size(); ++g) {
    const std::size_t port = g * 4;
    cost.link_bytes[port] += (1 - across) * bytes_per_hop;
    cost.link_bytes[port + 1] += (1 - across) * bytes_per_hop;
    cost.link_bytes[port + 2] += across * bytes_per_hop;
    cost.link_bytes[port + 3] += across * bytes_per_hop;
    cost.nvlink_bytes += (1 - across) * bytes_per_hop;
    cost.network_bytes += across * bytes_per_hop;
  }
}

}  // namespace moesim::sim
