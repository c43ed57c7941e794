#pragma once
// The training pipeline played op by op (docs/parallelism.md, "The pipeline on the timeline"):
// every stage runs its forward and backward chunks in Megatron's order (1F1B: p - s - 1 warm-up
// forwards, then one forward one backward, then the remaining backwards; interleaved: Megatron's
// get_forward_backward_func order over virtual stages), each op starting when its stage is free
// and its input has arrived. An op computes for F / v (forward) or B / v (backward) and then
// sends its output, s seconds, exposed as the step account counts it. What is left between ops is
// the stage's bubble, so per stage forward + backward + send/recv + bubble = the makespan.
#include <vector>

namespace moesim::sim {

struct PipelineOp {
  int micro_batch = 0;
  int chunk = 0;  // virtual stage (model chunk) of this stage, 0 under 1F1B
  bool backward = false;
  double start = 0;        // seconds from the step's start
  double compute_end = 0;  // the send/recv runs from here
  double end = 0;
};

struct PipelinePlan {
  int stages = 1;
  int micro_batches = 1;
  int virtual_stages = 1;
  double forward = 0;    // one micro-batch through a stage's blocks (all its chunks)
  double backward = 0;   // and back
  double send_recv = 0;  // one message between stages
};

struct PipelineTimeline {
  std::vector<std::vector<PipelineOp>> stages;  // each stage's ops in the order it runs them
  double makespan = 0;
  // A stage's idle time between its ops and before the makespan: its share of the bubble.
  double bubble(int stage) const;
};

// Ops the schedule holds: 2 x stages x micro_batches x virtual_stages.
double pipeline_op_count(const PipelinePlan& plan);
// The schedule, every stage playing the same per-micro-batch times (the slowest stage's, as the
// step account prices it). Interleaving needs micro_batches to be a multiple of stages.
PipelineTimeline play_pipeline(const PipelinePlan& plan);

}  // namespace moesim::sim
