#pragma once
// What the cost stage prices for one layer: the work of each phase and the layer's outcome.
#include <vector>

namespace moesim::sim {

struct PhaseTimes {  // seconds, on the slowest GPU (it gates each collective)
  double dense = 0;
  double tp_all_reduce = 0;  // part of dense: the attention-TP all-reduces of the block
  // Part of dense: the context-parallel ring's KV send/recv beyond the attention it overlaps.
  double cp_kv_exchange = 0;
  double gate = 0;
  double dispatch = 0;
  double count_exchange = 0;  // part of dispatch: the counts exchanged to size receive buffers
  // Part of dispatch: its measured fixed cost, the dispatch sequence (count exchange, host sync,
  // buffer sizing, regroup launch) where the profile has one, else the count exchange.
  double dispatch_fixed = 0;
  // Part of dispatch: the MoE-TP all-gather of the tokens an EP rank received (MoE TP > 1).
  double moe_tp_all_gather = 0;
  double experts = 0;
  // Single-batch overlap only: the shared experts' part of dense (run beside the dispatch) and the
  // down projection's part of experts (run beside the combine).
  double shared_experts = 0;
  double experts_down = 0;
  double combine = 0;
  // Part of combine: the MoE-TP reduce-scatter of the expert outputs' partial sums.
  double moe_tp_reduce_scatter = 0;
  double total = 0;       // after overlap
  double calibrated = 0;  // of the work above, seconds priced from calibrated curves
  double band = 0;        // their relative error band (docs/accuracy.md); 0 without calibration
};

struct MicroBatchTimes {  // seconds from the layer's start
  double dense = 0;       // dense part, then the gate
  double dispatch = 0;
  double experts = 0;
  double combine = 0;
};

// When each phase of each micro-batch runs (layer_schedule.hpp makes it).
struct LayerSchedule {
  std::vector<MicroBatchTimes> micro_batches;
  double makespan = 0;
};

struct LayerResult {
  int layer = 0;  // block index in the model
  bool moe = false;
  PhaseTimes phases;
  // Training: the block's backward pass per micro-batch (run/training_step.hpp), its own phases:
  // twice the forward's compute (input and weight gradients), the same collectives in reverse.
  PhaseTimes backward;
  LayerSchedule schedule;  // the phases laid out under the overlap; its makespan is phases.total
  LayerSchedule backward_schedule;  // training: the backward's; its makespan is backward.total
  double imbalance = 1;             // max/mean tokens over GPUs of the EP group, as priced
  double expected_imbalance = 1;    // the same for the expected loads (no batch variation)
  double dropped_tokens = 0;        // routed copies over capacity, per step
  std::vector<double> dropped_per_expert;  // per logical expert, per step
  std::vector<double> dropped_per_gpu;     // per EP rank: what one GPU of that rank drops per step
  double unrouted_tokens = 0;              // tokens no expert processed (residual only), per step
  std::vector<double> unrouted_per_gpu;    // per EP rank: one source GPU's unrouted tokens per step
  bool unrouted_estimated = false;         // from a sampled estimate (docs/capacity-policy.md)
  std::vector<double> tokens_per_expert;   // global, after drops
  std::vector<double> gpu_experts;         // per EP rank, one micro-batch: its own expert GEMM time
  double scale_up_bytes = 0;               // one EP group, one micro-batch, dispatch + combine
  double scale_out_bytes = 0;
  // Of those bytes, the dispatch's share: both all-to-alls move the same tokens, at the model's
  // dispatch and combine bytes per element.
  double dispatch_byte_share = 0.5;
};

}  // namespace moesim::sim
