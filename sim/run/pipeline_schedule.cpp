#include "sim/run/pipeline_schedule.hpp"

#include <algorithm>
#include <stdexcept>

namespace moesim::sim {
namespace {

struct OpId {
  int micro_batch = 0;
  int chunk = 0;
  bool backward = false;
};

// Megatron's order for one stage (megatron/core/pipeline_parallel/schedules.py): warm-up
// forwards, then alternating one forward and one backward, then the remaining backwards.
// Interleaved, forwards go micro-batch groups of `stages` through chunk 0, 1, ... and backwards
// through the chunks in reverse.
std::vector<OpId> stage_order(const PipelinePlan& plan, int stage) {
  const int p = plan.stages, v = plan.virtual_stages, m = plan.micro_batches;
  const int ops = m * v;
  std::vector<OpId> forwards, backwards;
  for (int k = 0; k < ops; ++k) {
    const int chunk = v == 1 ? 0 : (k % (p * v)) / p;
    const int micro_batch = v == 1 ? k : (k / (p * v)) * p + k % p;
    forwards.push_back({micro_batch, chunk, false});
    backwards.push_back({micro_batch, v - 1 - chunk, true});
  }
  const int warm_up = std::min(ops, v == 1 ? p - stage - 1 : (p - stage - 1) * 2 + (v - 1) * p);
  std::vector<OpId> order(forwards.begin(), forwards.begin() + warm_up);
  std::size_t next_backward = 0;
  for (int k = warm_up; k < ops; ++k) {
    order.push_back(forwards[k]);
    order.push_back(backwards[next_backward++]);
  }
  order.insert(order.end(), backwards.begin() + static_cast<std::ptrdiff_t>(next_backward),
               backwards.end());
  return order;
}

// End times by [stage][chunk][micro-batch]; negative until the op has run.
using EndTimes = std::vector<std::vector<std::vector<double>>>;

// When the op's input is there: the previous model chunk's forward output, or the next one's
// gradient; the last chunk's backward starts from its own forward. Negative: not yet.
double input_ready(const PipelinePlan& plan, const EndTimes& forward_end,
                   const EndTimes& backward_end, int stage, const OpId& op) {
  const int p = plan.stages, v = plan.virtual_stages;
  const int i = op.micro_batch, c = op.chunk;
  if (!op.backward) {
    if (stage > 0) return forward_end[stage - 1][c][i];
    return c > 0 ? forward_end[p - 1][c - 1][i] : 0.0;
  }
  if (stage < p - 1) return backward_end[stage + 1][c][i];
  return c < v - 1 ? backward_end[0][c + 1][i] : forward_end[stage][c][i];
}

}  // namespace

double PipelineTimeline::bubble(int stage) const {
  double busy = 0;
  for (const PipelineOp& op : stages[stage]) busy += op.end - op.start;
  return makespan - busy;
}

double pipeline_op_count(const PipelinePlan& plan) {
  return 2.0 * plan.stages * plan.micro_batches * plan.virtual_stages;
}

PipelineTimeline play_pipeline(const PipelinePlan& plan) {
  const int p = plan.stages, v = plan.virtual_stages, m = plan.micro_batches;
  const EndTimes unset(p, std::vector<std::vector<double>>(v, std::vector<double>(m, -1.0)));
  EndTimes forward_end = unset, backward_end = unset;
  std::vector<std::vector<OpId>> orders;
  for (int stage = 0; stage < p; ++stage) orders.push_back(stage_order(plan, stage));
  PipelineTimeline timeline;
  timeline.stages.resize(p);
  std::vector<double> free(p, 0.0);
  std::vector<std::size_t> next(p, 0);
  // Every op on the single-stage path has messages only between stages.
  const double message = p > 1 ? plan.send_recv : 0.0;
  for (bool progress = true; progress;) {
    progress = false;
    for (int stage = 0; stage < p; ++stage)
      for (; next[stage] < orders[stage].size(); ++next[stage]) {
        const OpId& op = orders[stage][next[stage]];
        const double ready = input_ready(plan, forward_end, backward_end, stage, op);
        if (ready < 0) break;  // its input comes from a stage not played that far yet
        PipelineOp played{op.micro_batch, op.chunk, op.backward, std::max(free[stage], ready)};
        played.compute_end = played.start + (op.backward ? plan.backward : plan.forward) / v;
        played.end = played.compute_end + message;
        (op.backward ? backward_end : forward_end)[stage][op.chunk][op.micro_batch] = played.end;
        free[stage] = played.end;
        timeline.makespan = std::max(timeline.makespan, played.end);
        timeline.stages[stage].push_back(played);
        progress = true;
      }
  }
  for (int stage = 0; stage < p; ++stage)
    if (next[stage] < orders[stage].size())
      throw std::logic_error(
          "pipeline schedule deadlocked (micro_batches not a multiple of "
          "stages under interleaving?)");
  return timeline;
}

}  // namespace moesim::sim
