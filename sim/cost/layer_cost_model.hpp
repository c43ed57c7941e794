#pragma once
// Prices each phase of a layer on each GPU. With a measured profile (moesim-profile) that holds the
// model's shape, expert GEMMs, gate, permute and unpermute come from its curves and dense work from
// its measured ceilings ("measured"); otherwise from the device datasheet times an efficiency
// ("roofline"). Communication uses the cluster's link bandwidths either way.
#include <optional>
#include <string>
#include <vector>

#include "sim/cost/group_collectives.hpp"
#include "sim/cost/layer_result.hpp"
#include "sim/cost/measured_profile.hpp"
#include "sim/network/network_model.hpp"
#include "sim/placement/placement.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {

struct LayerCost {
  PhaseTimes phases;                      // per micro-batch, on the slowest GPU
  std::vector<double> gpu_compute;        // per GPU of the EP group, seconds
  std::vector<double> gpu_communication;  // per GPU of the EP group, seconds
  std::vector<double> gpu_tokens;         // token copies each GPU's experts compute
  double nvlink_bytes = 0;                // summed over the EP group
  double network_bytes = 0;
  std::vector<double> link_bytes;           // dispatch + combine, by LayerCostModel::links() index
  std::vector<double> dispatch_link_bytes;  // the dispatch's part of link_bytes
};

// Gap between back-to-back small kernels replayed from a CUDA graph, measured on H200 at full
// clocks with PyTorch 2.11 (profiler/measure_step_floor.py,
// docs/measurements/h200x2-step-floor.json).
inline constexpr double kGraphKernelGap = 1.2e-6;

// The kernels of one step and what launching them costs: a step takes at least `floor` (kernels
// cannot be launched faster), pays `fixed` once per step, and `overhead` for the small-kernel
// cost above the roofline of the kernels the roofline prices.
struct LaunchFloor {
  int kernels = 0;
  double floor = 0;     // seconds
  double fixed = 0;     // seconds
  double overhead = 0;  // seconds
};

// A layer's tokens per expert: a routing generator's expectations, or a recorded trace's counts
// replayed at the tokens they were recorded with.
enum class ExpertLoads { Expected, Recorded };

class LayerCostModel {
 public:
  // `profile` may be null; when it holds no curves for the model only its ceilings are used.
  // `network` may be null: all-to-alls are then priced analytically.
  LayerCostModel(const ScenarioSpec& scenario, const MeasuredProfile* profile,
                 const NetworkModel* network = nullptr);
  bool measured() const { return curves_ != nullptr; }
  // The profile carries phase curves from `moesim calibrate`; they price the phases they cover.
  bool calibrated() const { return calibrated_ != nullptr; }
  const std::vector<CostedLink>& links() const { return links_; }
  int domain_size() const;  // GPUs of the EP group per scale-up domain (plan_dispatch's)
  // How this scenario was priced where that is not obvious (curves borrowed from a same-shaped
  // model, FP8 scaled from BF16, CUDA graphs), for the report.
  std::vector<std::string> pricing_notes() const;
  // How the causal attention core of a prefill (or a step's prompt chunk) was priced; nullopt when
  // the profile measured no attention_core or the step has no prompt.
  std::optional<std::string> attention_core_note() const;
  // "calibrated", "measured", "device-scaled" (another device's profile, device_scaled_profile.hpp)
  // or "roofline": what priced the phases, for the report.
  std::string profile_source() const;
  // Where scale-up all-to-all bandwidth comes from: the profile's NCCL curve, or line rate x
  // network_efficiency.
  std::string collective_source() const;

  // Attention (+ dense MLP or shared experts) on one GPU, for the query tokens of its attention
  // group (a TP group runs them all, each rank on its share of heads and weights).
  double dense_time(double attention_tokens, bool moe_layer) const;
  // Of a MoE block's dense_time, the shared experts' part (single-batch overlap runs it beside the
  // dispatch); 0 for a model without shared experts.
  double shared_experts_time(double attention_tokens) const;
  // One expert's GEMMs (gate/up/down) for `tokens`: compute- or weight-bandwidth-bound.
  double expert_time(double tokens) const;
  // The expert GEMMs of one GPU holding experts with these expected token counts, when the EP group
  // routes `group_tokens` tokens: an expert no token chooses costs nothing, weights included.
  // Recorded counts are priced as they are; expected loads over the spread of rows around them.
  double gpu_experts_time(const std::vector<double>& tokens_per_local_expert, double group_tokens,
                          ExpertLoads loads = ExpertLoads::Expected) const;
  // A MoE layer for one micro-batch: `load` holds tokens per logical expert over the EP group.
  LayerCost moe_layer(const Placement& placement, const std::vector<double>& load,
                      double tokens_per_gpu, ExpertLoads loads = ExpertLoads::Expected) const;
  // Lays the phases of all micro-batches of one layer out under the scenario's overlap.
  LayerSchedule schedule(const PhaseTimes& per_micro_batch) const;
  // --- What a step adds outside the expert path (step_costs.cpp) ---
  // Attention-TP all-reduces of one block (after attention, and after the MLP or MoE block unless
  // MoE TP reduces the experts' outputs itself) for the group's tokens; 0 without attention TP.
  double tp_collectives_time(double attention_tokens, bool moe_block = false) const;
  // One attention-TP all-reduce of the group's bf16 activations, and what priced it.
  CollectivePrice tp_all_reduce(double attention_tokens) const;
  // Context parallel's ring attention for the group's tokens, one block (context_parallel.cpp):
  // each ring step's KV send/recv runs under the attention of the step before; `backward` sends
  // the KV and its gradient and computes twice the attention. Only the exposed part is priced.
  CollectivePrice cp_kv_exchange(double attention_tokens, bool backward) const;
  // The TP, DP and pipeline collectives (docs/parallelism.md).
  const GroupCollectives& group_collectives() const { return group_collectives_; }
  // The LM head (vocab-parallel, bf16) and sampling for `rows` rows of logits on one GPU.
  double lm_head_time(double rows) const;
  // How much longer a MoE block's compute takes beside DeepEP's normal kernels, which hold their
  // SMs while an overlap runs them at once (deepep_cost.hpp); 1 without a profile's SM count.
  double deepep_compute_factor() const;
  // Kernels a step launches, eagerly or from a CUDA graph (workload.cuda_graphs).
  LaunchFloor launch_floor() const;
  // The Adam step on `parameters` held by this GPU: memory-bound, 28 bytes a parameter (fp32 master
  // weight and two moments read and written, the bf16 gradient read, the bf16 weight written).
  double adam_step_time(double parameters) const;
  // Ring all-reduce of `bytes` over `ranks` GPUs (2(n-1)/n of the data crosses the slowest link).
  double all_reduce_time(double bytes, int ranks) const;

 private:
  double compute_rate() const;          // FLOP/s reached
  double bf16_over_fp8() const;         // BF16 / FP8 GEMM rate of the device
  double fp8_scale(double rows) const;  // FP8 / BF16 time of an expert GEMM of `rows` rows
  // FP8 / BF16 time of a dense GEMM of `rows` rows over `weight_elements` weights: measured by the
  // profile at its nearest shape, else the datasheet's rates.
  double dense_fp8_over_bf16(double rows, double weight_elements) const;
  // Block-scaled FP8 (model.weight_scale_block) over per-tensor FP8 at `rows` rows: the profile's
  // measured ratio for compute-bound GEMMs, 1 below the device's FP8 ridge or without a ratio.
  // Callers apply it to one-byte weights only.
  double fp8_block_factor(double rows, double weight_elements) const;
  // The causal attention core's rate over the GEMM rate at prompts of `prompt_tokens` (under
  // context parallelism its chunks of prompt / CP): the profile's attention_core curve, 1 without.
  double causal_attention_share(double prompt_tokens) const;
  // The prompt one fused-attention call sees: prompt / CP under context parallelism.
  double causal_kernel_prompt(double prompt_tokens) const;
  void add_fp8_notes(std::vector<std::string>& notes) const;  // pricing_notes' FP8 part
  // dense_time's roofline; `mlp` false leaves the dense MLP or shared experts out.
  double block_time(double attention_tokens, bool moe_layer, bool mlp) const;
  double memory_rate() const;                // bytes/s reached
  double scale_up_rate() const;              // bytes/s per GPU inside the NVLink/PCIe domain
  double scale_out_rate() const;             // bytes/s per GPU across the fabric
  double count_exchange_time(int ep) const;  // seconds; 0 unless the profile timed it
  // The profile's dispatch sequence (collectives.dispatch_sequence) on the nearest measured ranks
  // and experts, seconds; 0 unless measured.
  double dispatch_sequence_time(int ep) const;
  // One GPU's scale-up all-to-all at the smallest measured size, seconds; 0 without a curve.
  double scale_up_floor() const;
  // Seconds for `bytes` over one GPU's scale-up port in an all-to-all where each rank sends
  // `rank_bytes` in all: from the measured curve when there is one (small messages then cost
  // what they measured), else line rate x efficiency.
  double scale_up_time(double bytes, double rank_bytes) const;
  double scale_up_efficiency(double rank_bytes) const;  // for the flow model

  const ScenarioSpec& s_;
  const MeasuredProfile* profile_ = nullptr;
  const ModelCurves* curves_ = nullptr;
  const NetworkModel* network_ = nullptr;
  std::vector<CostedLink> links_;
  const CollectiveCurve* all_to_all_curve_ = nullptr;
  const AllToAllTimes* all_to_all_times_ = nullptr;  // timed NCCL all-to-all, preferred
  const CalibratedPhases* calibrated_ = nullptr;
  GroupCollectives group_collectives_;
  GroupLayout moe_tp_group_;  // the experts' shards (size 1 without MoE TP)
  // Scales the compute phases of `cost` (and each GPU's compute) by deepep_compute_factor().
  void share_sms_with_deepep(LayerCost& cost) const;
  // MoE TP's all-gather before and reduce-scatter after the experts for `received` token copies
  // per GPU, added to the cost's phases and per-GPU communication.
  void add_moe_tp_collectives(double received, LayerCost& cost) const;
  // Those collectives' ring traffic on the links (flow: the graph's; analytic: each GPU's ports),
  // each shard sending `bytes_per_hop` to the next.
  void place_moe_tp_bytes(double bytes_per_hop, LayerCost& cost) const;
};

}  // namespace moesim::sim
