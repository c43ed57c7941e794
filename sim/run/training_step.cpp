#include "sim/run/training_step.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "sim/cost/memory_model.hpp"
#include "sim/run/inputs.hpp"
#include "sim/spec/parallel_groups.hpp"

namespace moesim::sim {
namespace {

// A block's backward: input and weight gradients cost twice the forward's math (dense part, gate,
// experts); the all-to-alls run again (the combine's gradient goes out as a dispatch, the
// dispatch's comes back as a combine), and so do the TP and MoE-TP collectives (an all-reduce's
// gradient is an all-reduce; all-gather and reduce-scatter swap). The context-parallel ring's
// exposed part is its own (`cp_backward`: the KV and its gradient under twice the attention).
PhaseTimes backward_phases(const PhaseTimes& f, double cp_backward) {
  PhaseTimes b = f;
  b.dense = 2 * (f.dense - f.tp_all_reduce - f.cp_kv_exchange) + f.tp_all_reduce + cp_backward;
  b.cp_kv_exchange = cp_backward;
  b.gate = 2 * f.gate;
  b.experts = 2 * f.experts;
  b.total = 0;
  b.calibrated = 0;
  b.band = 0;
  return b;
}

struct StageTimes {
  int stage = 0;
  double forward = 0;   // one micro-batch through the stage's blocks
  double backward = 0;  // and back
};

// The stage whose forward and backward take longest per micro-batch: it paces the pipeline.
StageTimes slowest_stage(const std::vector<LayerResult>& layers, int stages) {
  StageTimes slowest;
  for (int stage = 0; stage < stages; ++stage) {
    StageTimes t{stage, 0, 0};
    const StageBlocks blocks = stage_blocks(static_cast<int>(layers.size()), stages, stage);
    for (int l = blocks.first; l < blocks.end; ++l) {
      t.forward += layers[l].phases.total;
      t.backward += layers[l].backward.total;
    }
    if (stage == 0 || t.forward + t.backward > slowest.forward + slowest.backward) slowest = t;
  }
  return slowest;
}

// What priced a collective, once per (group, collective), for the report.
void note(std::vector<std::string>& notes, const std::string& what, const CollectivePrice& price) {
  if (price.source.empty()) return;
  const std::string line = fmt::format("{}: {}", what, price.source);
  if (std::find(notes.begin(), notes.end(), line) == notes.end()) notes.push_back(line);
}

// Overlapped with `window` of compute, bucket by bucket as Megatron's overlap_grad_reduce and
// overlap_param_gather do (one bucket per block): the last bucket is always exposed.
double exposed_after_overlap(double work, double window, int buckets) {
  return std::max(work / std::max(1, buckets), work - window);
}

// The data-parallel collectives of the slowest stage: gradients reduced (all-reduce without ZeRO,
// reduce-scatter with it) and weights gathered (ZeRO 1-2 after the optimizer, ZeRO 3 before each
// block's forward and backward).
void price_data_parallel(const ScenarioSpec& s, const LayerCostModel& model, TrainingPhases& t,
                         std::vector<std::string>& notes) {
  const ParallelismSpec& p = s.parallelism;
  const StageParams params = stage_params(s, t.slowest_stage);
  const GroupCollectives& collectives = model.group_collectives();
  const GroupLayout data = group_layout(s, GroupKind::Data);
  const GroupLayout expert_data = group_layout(s, GroupKind::ExpertData);
  const int zero = p.data.zero_stage;
  const CollectiveKind reduce =
      zero == 0 ? CollectiveKind::AllReduce : CollectiveKind::ReduceScatter;
  t.gradient_collective = collective_kind_name(reduce);
  t.data_parallel = data.size;
  t.expert_data_parallel = expert_data.size;
  const CollectivePrice dense_grads = collectives.price(reduce, params.dense * 2, data);
  const CollectivePrice expert_grads = collectives.price(reduce, params.experts * 2, expert_data);
  note(notes, fmt::format("gradient {} (data parallel, {} GPUs)", t.gradient_collective, data.size),
       dense_grads);
  note(notes,
       fmt::format("expert gradient {} (expert data parallel, {} GPUs)", t.gradient_collective,
                   expert_data.size),
       expert_grads);
  t.gradient_reduce_work = dense_grads.seconds + expert_grads.seconds;
  const int blocks = s.model.layers / p.pipeline.size;
  t.gradient_reduce = exposed_after_overlap(t.gradient_reduce_work, t.stage_backward, blocks);
  if (zero == 0) return;
  const double weight_bytes = s.model.weight_bytes;
  const CollectivePrice dense_weights =
      collectives.price(CollectiveKind::AllGather, params.dense * weight_bytes, data);
  const CollectivePrice expert_weights =
      collectives.price(CollectiveKind::AllGather, params.experts * weight_bytes, expert_data);
  note(notes, fmt::format("weight all_gather (data parallel, {} GPUs)", data.size), dense_weights);
  note(notes,
       fmt::format("expert weight all_gather (expert data parallel, {} GPUs)", expert_data.size),
       expert_weights);
  const double one_gather = dense_weights.seconds + expert_weights.seconds;
  // ZeRO 3 gathers every block's weights before its forward and again before its backward, for
  // each micro-batch, prefetched under the blocks before; ZeRO 1-2 once, after the optimizer,
  // under the next step's first forward.
  t.param_all_gather_work = zero >= 3 ? 2.0 * t.micro_batches * one_gather : one_gather;
  const double window = zero >= 3 ? t.forward + t.backward : t.stage_forward;
  t.param_all_gather = exposed_after_overlap(t.param_all_gather_work, window, blocks);
}

// The pipeline's parts from the slowest stage's per-micro-batch times.
void price_pipeline(const ScenarioSpec& s, const LayerCostModel& model, double tokens_per_gpu,
                    TrainingPhases& t, std::vector<std::string>& notes) {
  const PipelineSpec& pipe = s.parallelism.pipeline;
  const int p = pipe.size, m = pipe.micro_batches, v = pipe.virtual_stages;
  if (p > 1) {
    // Each TP rank sends its sequence-parallel share of the micro-batch's bf16 activations.
    const GroupLayout pipeline = group_layout(s, GroupKind::Pipeline);
    const double bytes = tokens_per_gpu * static_cast<double>(s.model.hidden) * 2;
    const CollectivePrice message = model.group_collectives().price(
        CollectiveKind::SendRecv, bytes, {2, pipeline.domains > 1 ? 2 : 1});
    note(notes, "pipeline send/recv", message);
    t.send_recv = message.seconds;
  }
  // Every chunk of every micro-batch sends its activations on and its gradients back.
  const double messages_per_micro_batch = p > 1 ? 2.0 * v : 0.0;
  const double per_micro_batch =
      t.stage_forward + t.stage_backward + messages_per_micro_batch * t.send_recv;
  t.forward = m * t.stage_forward;
  t.backward = m * t.stage_backward;
  t.pipeline_send_recv = m * messages_per_micro_batch * t.send_recv;
  t.pipeline_bubble = (p - 1) * per_micro_batch / v;
  t.bubble_fraction = pipeline_bubble_fraction(p, m, v);
}

}  // namespace

StageBlocks stage_blocks(int blocks, int stages, int stage) {
  const int per_stage = blocks / std::max(1, stages);
  return {stage * per_stage, (stage + 1) * per_stage};
}

double pipeline_bubble_fraction(int stages, int micro_batches, int virtual_stages) {
  // Bubble (p - 1) t / v against the m t of work: (p - 1) / (v m + p - 1) of the pipeline.
  const double bubble = (stages - 1.0) / virtual_stages;
  return bubble / (micro_batches + bubble);
}

TrainingPhases price_training_step(const ScenarioSpec& s, const LayerCostModel& model,
                                   std::vector<LayerResult>& layers,
                                   std::vector<std::string>& notes) {
  const double attention_tokens =
      tokens_per_gpu_per_micro_batch(s) * s.parallelism.attention_tensor_parallel;
  const CollectivePrice cp_backward = model.cp_kv_exchange(attention_tokens, true);
  note(notes, "context-parallel backward KV send/recv", cp_backward);
  for (LayerResult& layer : layers) {
    layer.backward = backward_phases(layer.phases, cp_backward.seconds);
    layer.backward_schedule = model.schedule(layer.backward);
    layer.backward.total = layer.backward_schedule.makespan;
  }
  const ParallelismSpec& p = s.parallelism;
  TrainingPhases t;
  t.stages = p.pipeline.size;
  t.micro_batches = p.pipeline.micro_batches;
  t.virtual_stages = p.pipeline.virtual_stages;
  t.schedule = std::string(choice_name(p.pipeline.schedule));
  t.zero_stage = p.data.zero_stage;
  const StageTimes stage = slowest_stage(layers, t.stages);
  t.slowest_stage = stage.stage;
  for (int gpu = 0; gpu < s.cluster.gpus(); ++gpu) t.gpu_stage.push_back(pipeline_stage_of(s, gpu));
  t.stage_forward = stage.forward;
  t.stage_backward = stage.backward;
  const double tokens_per_gpu = static_cast<double>(s.workload.tokens_per_gpu) / t.micro_batches /
                                p.attention_tensor_parallel;
  price_pipeline(s, model, tokens_per_gpu, t, notes);
  price_data_parallel(s, model, t, notes);
  // The Adam step on this GPU's share: all of its parameters without ZeRO, a replica's share with.
  const StageParams params = stage_params(s, t.slowest_stage);
  const double expert_replicas =
      static_cast<double>(p.stage_gpus(s.cluster.gpus())) / p.moe_group();
  const double share = t.zero_stage >= 1
                           ? params.dense / p.weight_replicas() + params.experts / expert_replicas
                           : params.dense + params.experts;
  t.optimizer = model.adam_step_time(share);
  t.assumptions = {
      "mixed-precision Adam: bf16 weights and gradients, fp32 master weights and two moments "
      "(12 bytes a parameter); the step reads and writes 28 bytes a parameter of this GPU's share",
      fmt::format("ZeRO stage {}: {}", t.zero_stage,
                  t.zero_stage == 0 ? "nothing sharded; gradients all-reduced"
                  : t.zero_stage == 1
                      ? "optimizer state sharded over the data-parallel replicas; "
                        "gradients reduce-scattered, weights all-gathered after the "
                        "step (Megatron's distributed optimizer)"
                  : t.zero_stage == 2 ? "optimizer state and gradients sharded; gradients "
                                        "reduce-scattered, weights all-gathered after the step"
                                      : "weights, gradients and optimizer state sharded; weights "
                                        "all-gathered before each block's forward and backward"),
      "backward = 2 x the forward's math, the same collectives again; no activation recomputation",
      "gradient reduction overlaps the last micro-batch's backward one block at a time; the last "
      "block's share stays exposed",
      "gradient and weight collectives take no link bandwidth from the backward's all-to-alls, TP "
      "and context-parallel messages they overlap (their times are priced alone)",
      "pipeline send/recv exposed on the critical path (no overlap of stage-to-stage messages)"};
  return t;
}

}  // namespace moesim::sim
