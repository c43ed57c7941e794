#pragma once
// The blocks one GPU draws for one micro-batch of one layer, in the order the timeline holds them.
// Both timeline writers (timeline.cpp's JSON tree, timeline_text.cpp's text) draw from here, so the
// CLI's timeline.json, the GUI's and Python's cannot differ in which slices they hold.
#include <fmt/format.h>

#include <array>
#include <string>

#include "sim/run/run_result.hpp"

namespace moesim::sim {

enum TimelineStream { kComputeStream = 0, kDispatchStream = 1, kCombineStream = 2 };

struct TimelineBlock {
  const char* name;  // the slice's name after the "L<layer> [mb<k>] " tag
  TimelineStream stream;
  double start = 0;     // seconds from the step's start
  double duration = 0;  // a block of no duration is not drawn
};

// The five phases, then each collective as a slice nested in its phase's: the TP all-reduces and
// the context-parallel ring's exposed part end the dense span, the MoE TP all-gather ends the
// dispatch, the MoE TP reduce-scatter opens the combine (before the all-to-all back).
// `own_experts` is this GPU's own expert time (the slowest rank's sets the combine).
inline std::array<TimelineBlock, 9> micro_batch_timeline_blocks(double layer_start,
                                                                const MicroBatchTimes& at,
                                                                const PhaseTimes& p,
                                                                double own_experts) {
  const double dense_end = layer_start + at.dense + p.dense;
  return {{{"dense", kComputeStream, layer_start + at.dense, p.dense},
           {"gate", kComputeStream, layer_start + at.dense + p.dense, p.gate},
           {"dispatch", kDispatchStream, layer_start + at.dispatch, p.dispatch},
           {"experts", kComputeStream, layer_start + at.experts, own_experts},
           {"combine", kCombineStream, layer_start + at.combine, p.combine},
           {"tp_all_reduce", kComputeStream, dense_end - p.cp_kv_exchange - p.tp_all_reduce,
            p.tp_all_reduce},
           {"cp_kv_exchange", kComputeStream, dense_end - p.cp_kv_exchange, p.cp_kv_exchange},
           {"moe_tp_all_gather", kDispatchStream,
            layer_start + at.dispatch + p.dispatch - p.moe_tp_all_gather, p.moe_tp_all_gather},
           {"moe_tp_reduce_scatter", kCombineStream, layer_start + at.combine,
            p.moe_tp_reduce_scatter}}};
}

// One micro-batch of one layer as the stream tracks draw it.
struct TimelinePass {
  const LayerResult& layer;
  const PhaseTimes& phases;  // the forward's, or under training the backward's
  const MicroBatchTimes& at;
  double layer_start;  // seconds from the step's start
  std::string tag;     // "L3 ", "L3 mb1 ", "L3 backward "
  bool backward;
  // This GPU's own expert time: the backward's is twice the forward's (input and weight grads).
  double own_experts(int gpu) const {
    if (layer.gpu_experts.empty()) return phases.experts;
    const double own = layer.gpu_experts[static_cast<std::size_t>(gpu) % layer.gpu_experts.size()];
    return backward ? 2 * own : own;
  }
};

// Every micro-batch of every layer's forward, one layer after the other; under training then
// every layer's backward, the last layer first, as a backward pass runs.
template <class Visit>
void for_each_timeline_pass(const Report& r, Visit&& visit) {
  double t = 0;
  for (const LayerResult& layer : r.layers) {
    const auto& micro_batches = layer.schedule.micro_batches;
    for (std::size_t mb = 0; mb < micro_batches.size(); ++mb)
      visit(TimelinePass{layer, layer.phases, micro_batches[mb], t,
                         r.micro_batches > 1 ? fmt::format("L{} mb{} ", layer.layer, mb)
                                             : fmt::format("L{} ", layer.layer),
                         false});
    t += layer.phases.total;
  }
  if (!r.training) return;
  for (auto layer = r.layers.rbegin(); layer != r.layers.rend(); ++layer) {
    const auto& micro_batches = layer->backward_schedule.micro_batches;
    for (std::size_t mb = 0; mb < micro_batches.size(); ++mb)
      visit(TimelinePass{*layer, layer->backward, micro_batches[mb], t,
                         r.micro_batches > 1 ? fmt::format("L{} mb{} backward ", layer->layer, mb)
                                             : fmt::format("L{} backward ", layer->layer),
                         true});
    t += layer->backward.total;
  }
}

}  // namespace moesim::sim
