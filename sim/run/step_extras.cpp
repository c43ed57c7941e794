#include "sim/run/step_extras.hpp"

#include <algorithm>

namespace moesim::sim {

// The LM head and sampling, MTP drafts and the launch floor: what a serving step adds to its blocks
// (training keeps its own accounting, add_training_step).
void add_step_extras(const ScenarioSpec& s, const LayerCostModel& model, Report& r) {
  const WorkloadSpec& w = s.workload;
  StepExtras& x = r.extras;
  const double sequences = static_cast<double>(w.tokens_per_gpu);
  // Decode computes logits for every query token (drafts included); prefill for each sequence's
  // last token only (under context parallel, the rank holding the last chunks for the CP group).
  const double rows = w.kind == WorkloadKind::Decode
                          ? sequences * w.queries_per_sequence()
                          : std::max(1.0, sequences * s.parallelism.context_parallel /
                                              static_cast<double>(w.context_tokens));
  x.lm_head = model.lm_head_time(rows);
  x.accepted_tokens_per_sequence = w.accepted_tokens_per_sequence();
  if (w.mtp_draft_tokens > 0) {
    // Each draft runs the MTP module (one MoE block) and the LM head for every sequence; the block
    // is priced as a verify-pass MoE block (decode blocks are weight- and KV-bound).
    double moe_total = 0;
    int moe_blocks = 0;
    for (const auto& layer : r.layers)
      if (layer.moe) moe_total += layer.phases.total, ++moe_blocks;
    const double block = moe_blocks > 0 ? moe_total / moe_blocks : 0.0;
    x.mtp_drafts = w.mtp_draft_tokens * (block + model.lm_head_time(sequences));
  }
  const LaunchFloor launch = model.launch_floor();
  x.kernels = launch.kernels;
  x.launch_floor = launch.floor;
  x.launch_fixed = launch.fixed;
  x.kernel_overhead = launch.overhead;
  x.cuda_graphs = w.cuda_graphs;
  // Kernels are queued ahead of the GPU, so launching only shows when it is slower than the work.
  r.step_time_s =
      std::max(r.step_time_s + x.lm_head + x.mtp_drafts + x.kernel_overhead, x.launch_floor) +
      x.launch_fixed;
}

}  // namespace moesim::sim
