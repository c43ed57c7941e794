#pragma once
// When each phase of each micro-batch of a layer runs, on a compute stream and a communication
// stream: the one schedule both the step time and the timeline come from.
#include <vector>

#include "sim/cost/layer_result.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {

// none: micro-batches one after another, each phase after the last.
// comm-compute: within a micro-batch the expert GEMMs run in chunks beside the all-to-alls
//   (dispatch starts with the experts; the combine ends no earlier than the experts).
// single-batch (SGLang's SBO): the shared experts run beside the dispatch and the down projection
//   beside the combine (p.shared_experts and p.experts_down say how much of each).
// two-micro-batch (DeepSeek): list scheduling on two streams, compute order A0 A1 E0 A2 E1 ...
//   and communication order D0 D1 C0 D2 C1 ..., each phase after its own predecessor.
LayerSchedule schedule_layer(const PhaseTimes& per_micro_batch, int micro_batches, Overlap overlap);

}  // namespace moesim::sim
