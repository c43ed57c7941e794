#pragma once
// Prices each phase of a layer on each GPU. With a measured profile (moesim-profile) that holds the
// model's shape, expert GEMMs, gate, permute and unpermute come from its curves and dense work from
// its measured ceilings ("measured"); otherwise from the device datasheet times an efficiency
// ("roofline"). Communication uses the cluster's link bandwidths either way.
#include <string>
#include <vector>

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
  std::vector<double> link_bytes;  // dispatch + combine, by LayerCostModel::links() index
};

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
  // Where scale-up all-to-all bandwidth comes from: the profile's NCCL curve, or line rate x
  // network_efficiency.
  std::string collective_source() const;

  // Attention (+ dense MLP or shared experts) for `tokens` on one GPU.
  double dense_time(double tokens, bool moe_layer) const;
  // One expert's GEMMs (gate/up/down) for `tokens`: compute- or weight-bandwidth-bound.
  double expert_time(double tokens) const;
  // The expert GEMMs of one GPU holding experts with these token counts.
  double gpu_experts_time(const std::vector<double>& tokens_per_local_expert) const;
  // A MoE layer for one micro-batch: `load` holds tokens per logical expert over the EP group.
  LayerCost moe_layer(const Placement& placement, const std::vector<double>& load,
                      double tokens_per_gpu) const;
  // Lays the phases of all micro-batches of one layer out under the scenario's overlap.
  LayerSchedule schedule(const PhaseTimes& per_micro_batch) const;
  // Ring all-reduce of `bytes` over `ranks` GPUs (2(n-1)/n of the data crosses the slowest link).
  double all_reduce_time(double bytes, int ranks) const;

 private:
  double compute_rate() const;               // FLOP/s reached
  double memory_rate() const;                // bytes/s reached
  double scale_up_rate() const;              // bytes/s per GPU inside the NVLink/PCIe domain
  double scale_out_rate() const;             // bytes/s per GPU across the fabric
  int domain_size() const;                   // GPUs of the EP group per scale-up domain
  double count_exchange_time(int ep) const;  // seconds; 0 unless the profile timed it
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
};

}  // namespace moesim::sim
