#include "sim/cost/apply_calibration.hpp"

#include <algorithm>
#include <optional>

namespace moesim::sim {

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

}  // namespace moesim::sim
