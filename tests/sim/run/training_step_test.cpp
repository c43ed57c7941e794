// The training step as named phases (issue 22, issue 19's training accounting): backward,
// pipeline bubble and messages, gradient collectives, optimizer; MoE TP's traffic.
#include "sim/run/training_step.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "sim/run/simulate.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {
namespace {

ScenarioSpec mixtral_pipeline(const std::string& pipeline) {
  return parse_scenario(R"({"schema_version": 1, "model": "mixtral-8x7b", "cluster": "h100x64",
      "parallelism": {"expert_parallel": 8, "attention_tensor_parallel": 2,
                      "pipeline_parallel": )" +
                            pipeline + R"(, "overlap": "comm-compute"},
      "workload": {"kind": "training", "tokens_per_gpu": 8192},
      "network": {"model": "analytic"}, "profile": "roofline"})",
                        "train.json");
}

TEST(TrainingStep, OneFOneBBubbleIsPMinusOneOverMPlusPMinusOne) {
  // p = 4 stages, m = 8 micro-batches: (4 - 1) / (8 + 4 - 1) = 3 / 11.
  EXPECT_DOUBLE_EQ(pipeline_bubble_fraction(4, 8, 1), 3.0 / 11.0);
  // Interleaved over v = 2: the bubble time halves, (3 / 2) / (8 + 3 / 2) = 1.5 / 9.5.
  EXPECT_DOUBLE_EQ(pipeline_bubble_fraction(4, 8, 2), 1.5 / 9.5);
  EXPECT_DOUBLE_EQ(pipeline_bubble_fraction(1, 8, 1), 0.0);
}

TEST(TrainingStep, ThePipelineOfASimulatedStepHasThatBubble) {
  const Report r =
      simulate(mixtral_pipeline(R"({"size": 4, "schedule": "1f1b", "micro_batches": 8})"));
  ASSERT_TRUE(r.training.has_value());
  const TrainingPhases& t = *r.training;
  // Per micro-batch the slowest stage runs F + B + 2 messages; m of those are work, p - 1 bubble.
  const double work = t.forward + t.backward + t.pipeline_send_recv;
  EXPECT_NEAR(t.pipeline_bubble / (work + t.pipeline_bubble), 3.0 / 11.0, 1e-12);
  EXPECT_NEAR(t.forward, 8 * t.stage_forward, 1e-12);
  EXPECT_GT(t.send_recv, 0);
  EXPECT_NEAR(t.pipeline_send_recv, 8 * 2 * t.send_recv, 1e-12);
  // Every exposed part is a phase, and they add up to the step.
  EXPECT_DOUBLE_EQ(r.step_time_s, t.total());
  EXPECT_GT(t.optimizer, 0);
  EXPECT_LE(t.gradient_reduce, t.gradient_reduce_work);
  EXPECT_GT(t.gradient_reduce, 0);
  EXPECT_EQ(t.gradient_collective, "reduce_scatter");  // ZeRO 1 by default
}

TEST(TrainingStep, InterleavingDividesTheBubbleByTheVirtualStages) {
  const Report one =
      simulate(mixtral_pipeline(R"({"size": 4, "schedule": "1f1b", "micro_batches": 8})"));
  const Report two = simulate(mixtral_pipeline(
      R"({"size": 4, "schedule": "interleaved", "micro_batches": 8, "virtual_stages": 2})"));
  // Same stages and micro-batches: twice the messages per micro-batch, and a bubble of
  // (p - 1) (F + B + 4 messages) / 2 instead of (p - 1) (F + B + 2 messages).
  const TrainingPhases& a = *one.training;
  const TrainingPhases& b = *two.training;
  EXPECT_NEAR(b.stage_forward, a.stage_forward, 1e-12);
  EXPECT_NEAR(b.pipeline_bubble, 3 * (b.stage_forward + b.stage_backward + 4 * b.send_recv) / 2,
              1e-12);
  EXPECT_LT(b.pipeline_bubble, a.pipeline_bubble);
}

TEST(TrainingStep, BackwardDoublesTheMathAndRepeatsTheCollectives) {
  const Report r = simulate(mixtral_pipeline(R"({"size": 1})"));
  const LayerResult& layer = r.layers.back();
  ASSERT_TRUE(layer.moe);
  EXPECT_DOUBLE_EQ(layer.backward.experts, 2 * layer.phases.experts);
  EXPECT_DOUBLE_EQ(layer.backward.gate, 2 * layer.phases.gate);
  EXPECT_DOUBLE_EQ(layer.backward.dispatch, layer.phases.dispatch);
  EXPECT_DOUBLE_EQ(layer.backward.combine, layer.phases.combine);
  EXPECT_DOUBLE_EQ(layer.backward.tp_all_reduce, layer.phases.tp_all_reduce);
  // dense holds its all-reduce: 2 x (dense - all-reduce) + all-reduce.
  EXPECT_DOUBLE_EQ(layer.backward.dense, 2 * (layer.phases.dense - layer.phases.tp_all_reduce) +
                                             layer.phases.tp_all_reduce);
  // No pipeline: no bubble, no messages.
  EXPECT_EQ(r.training->pipeline_bubble, 0);
  EXPECT_EQ(r.training->pipeline_send_recv, 0);
}

TEST(TrainingStep, ZeroStageZeroAllReducesAndGathersNothing) {
  // Unsharded Adam state of the whole model does not fit an H100 (113 GiB); a quarter of it does.
  ScenarioSpec s = mixtral_pipeline(R"({"size": 4, "micro_batches": 8})");
  s.parallelism.data.zero_stage = 0;
  const Report r = simulate(s);
  EXPECT_EQ(r.training->gradient_collective, "all_reduce");
  EXPECT_EQ(r.training->param_all_gather, 0);
}

TEST(MoeTensorParallel, Tp2TimesEp4MovesTheseBytesOnEightGpus) {
  // 8 H200s, attention DP 8; MoE TP 2 x EP 4. Mixtral: 8 experts, top-2, hidden 4096, bf16
  // dispatch and combine. Uniform routing, 1024 tokens per GPU.
  const Report r = simulate(parse_scenario(R"({"schema_version": 1, "model": "mixtral-8x7b",
      "cluster": "h200x8", "parallelism": {"expert_parallel": 4, "moe_tensor_parallel": 2},
      "workload": {"kind": "prefill", "tokens_per_gpu": 1024,
                   "routing": {"generator": "uniform"}},
      "network": {"model": "analytic"}, "profile": "roofline"})",
                                           "moe-tp.json"));
  const LayerResult& layer = r.layers.front();
  ASSERT_TRUE(layer.moe);
  // Each EP rank expects 4 x 2048 x 2/8 = 2048 copies per shard, 2 x 2048 = 4096 for its MoE TP
  // group; a batch's are Poisson around that (sd sqrt(4096) = 64 copies, 32 a shard) and the step
  // waits for the busiest of the 4 ranks: 2048 + 32 x 1.029375 (E[max of 4 standard normals]) =
  // 2080.94 a shard (docs/capacity-policy.md).
  const double busiest = 2048 + std::sqrt(4096.0) / 2 * 1.0293754;
  // Dispatch: each of the EP group's 4 ranks sends 1024 x 2 = 2048 copies, 3/4 of them to the 3
  // other ranks (2 of the 8 experts each): 1536 x 4096 x 2 bytes; 4 ranks, dispatch and combine:
  // 2 x 4 x 1536 x 4096 x 2 = 100663296 bytes over NVLink (a busier rank keeps more of its own
  // copies and the others fewer: the 3/4 that cross stays). The MoE TP rings (below) add, per EP
  // rank, half of the all-gather's and of the reduce-scatter's 2 x 2080.94 x 8192 bytes (priced at
  // the busiest rank's rows): 4 x 2 x 2080.94 x 8192 = 136376485.
  EXPECT_NEAR(layer.scale_up_bytes, 100663296.0 + 4 * 2 * busiest * 8192, 1);
  // MoE TP gathers its peer's rows: the all-gather's output is 2 x 2080.94 x 4096 x 2 = 34094121
  // bytes, of which (2-1)/2 crosses each link at 450 GB/s x 0.8: 47.35 us, plus the in-domain
  // collective floor, 10 us (above one 1 us hop) = 57.35 us. The reduce-scatter of the partial
  // sums moves the same bytes.
  const double expected = 0.5 * 2 * busiest * 8192 / 360e9 + 10e-6;
  EXPECT_NEAR(layer.phases.moe_tp_all_gather, expected, 1e-12);
  EXPECT_NEAR(layer.phases.moe_tp_reduce_scatter, expected, 1e-12);
  // MoE TP reports which default priced it.
  bool named = false;
  for (const auto& note : r.pricing_notes)
    named = named || note.starts_with("MoE TP all_gather (2 GPUs): default: ring");
  EXPECT_TRUE(named);
}

}  // namespace
}  // namespace moesim::sim
