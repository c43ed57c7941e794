// The training step's account: the slowest pipeline stage's blocks forward and backward for every
// micro-batch, then the pipeline, data-parallel and optimizer items; all non-negative, summing to
// the step (docs/report.md, docs/parallelism.md).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "sim/cost/layer_schedule.hpp"
#include "sim/report/report.hpp"
#include "sim/report/step_account.hpp"
#include "sim/run/simulate.hpp"
#include "sim/spec/builtin_scenarios.hpp"

namespace moesim::sim {
namespace {

PhaseTimes block_phases(double dense, double dispatch, double experts, double combine) {
  PhaseTimes p;
  p.dense = dense;
  p.dispatch = dispatch;
  p.experts = experts;
  p.combine = combine;
  return p;
}

LayerResult toy_block(const PhaseTimes& forward, const PhaseTimes& backward) {
  LayerResult layer;
  layer.phases = forward;
  layer.schedule = schedule_layer(forward, 1, Overlap::None);
  layer.phases.total = layer.schedule.makespan;
  layer.backward = backward;
  layer.backward_schedule = schedule_layer(backward, 1, Overlap::None);
  layer.backward.total = layer.backward_schedule.makespan;
  return layer;
}

// 4 blocks in 2 stages, 3 micro-batches, no overlap. Stage 0's blocks: forward dense 1, dispatch 2,
// experts 3, combine 2 = 8 each, backward 2 + 2 + 6 + 2 = 12 each: F = 16, B = 24. Stage 1's:
// 1 + 1 + 1 + 1 = 4 forward, 8 backward: F = 8, B = 16, so stage 0 paces the pipeline. One
// message 0.5. forward 3 x 16 = 48, backward 3 x 24 = 72, send/recv 3 x 2 x 0.5 = 3, bubble
// (2 - 1)(16 + 24 + 1) = 41, gradient 2, optimizer 1, weight gather 0.5: step 167.5.
Report two_stage_step() {
  Report r;
  r.workload = "training";
  const auto slow_forward = block_phases(1, 2, 3, 2), slow_backward = block_phases(2, 2, 6, 2);
  const auto fast_forward = block_phases(1, 1, 1, 1), fast_backward = block_phases(2, 2, 2, 2);
  r.layers = {toy_block(slow_forward, slow_backward), toy_block(slow_forward, slow_backward),
              toy_block(fast_forward, fast_backward), toy_block(fast_forward, fast_backward)};
  for (int l = 0; l < 4; ++l) r.layers[static_cast<std::size_t>(l)].layer = l;
  TrainingPhases t;
  t.stages = 2;
  t.micro_batches = 3;
  t.slowest_stage = 0;
  t.stage_forward = 16;
  t.stage_backward = 24;
  t.send_recv = 0.5;
  t.forward = 48;
  t.backward = 72;
  t.pipeline_send_recv = 3;
  t.pipeline_bubble = 41;
  t.bubble_fraction = 1.0 / 4;  // (p - 1) / (m + p - 1)
  t.gradient_reduce = 2;
  t.optimizer = 1;
  t.param_all_gather = 0.5;
  r.training = t;
  r.step_time_s = t.total();
  return r;
}

TEST(TrainingAccount, SlowestStageBlocksForEveryMicroBatchThenThePipelineItems) {
  const Report r = two_stage_step();
  ASSERT_DOUBLE_EQ(r.step_time_s, 167.5);
  const StepAccount a = account_step(r);
  // Forward: 3 x (stage 0's two blocks): dense 6, dispatch 12, experts 18, combine 12 = 48.
  EXPECT_DOUBLE_EQ(a.phase_sums.dense, 6);
  EXPECT_DOUBLE_EQ(a.phase_sums.dispatch, 12);
  EXPECT_DOUBLE_EQ(a.phase_sums.experts, 18);
  EXPECT_DOUBLE_EQ(a.phase_sums.combine, 12);
  EXPECT_DOUBLE_EQ(a.phase_sums.total(), 48);
  // Backward: dense 12, dispatch 12, experts 36, combine 12 = 72.
  EXPECT_DOUBLE_EQ(a.backward_sums.experts, 36);
  EXPECT_DOUBLE_EQ(a.backward_sums.total(), 72);
  const std::vector<std::pair<std::string, double>> expected{{"pipeline_send_recv", 3},
                                                             {"pipeline_bubble", 41},
                                                             {"gradient_reduce_scatter", 2},
                                                             {"optimizer", 1},
                                                             {"param_all_gather", 0.5}};
  ASSERT_EQ(a.step_items.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(a.step_items[i].name, expected[i].first);
    EXPECT_DOUBLE_EQ(a.step_items[i].seconds, expected[i].second);
  }
  EXPECT_DOUBLE_EQ(a.accounted(), 167.5);  // 48 + 72 + 3 + 41 + 2 + 1 + 0.5
  EXPECT_EQ(a.blocks_scope, "pipeline stage 0, the slowest: blocks 0-1 x 3 micro-batches");
  // Experts forward and backward, 18 + 36 = 54, beat the bubble's 41.
  const Bottleneck b = find_bottleneck(r, a);
  EXPECT_EQ(b.phase, "experts");
  EXPECT_EQ(b.resource, "GPU compute");
  EXPECT_DOUBLE_EQ(b.seconds, 54);
  EXPECT_NEAR(b.share, 54 / 167.5, 1e-12);
}

TEST(TrainingAccount, ABubbleThatDominatesIsNamedForItsSchedule) {
  // The same step with a bubble of 100 (more than experts' 54): step 226.5.
  Report r = two_stage_step();
  r.training->pipeline_bubble = 100;
  r.step_time_s = r.training->total();
  const StepAccount a = account_step(r);
  EXPECT_DOUBLE_EQ(a.accounted(), 226.5);
  const Bottleneck b = find_bottleneck(r, a);
  EXPECT_EQ(b.phase, "pipeline_bubble");
  EXPECT_EQ(b.resource, "pipeline schedule");
  EXPECT_NE(b.where.find("2 stages, 3 micro-batches, 25.0% of the pipeline"), std::string::npos)
      << b.where;
  const std::string text = step_account_text(r, a);
  // The summary prints milliseconds: these toy seconds read x 1000.
  EXPECT_NE(text.find("  = step  226500.000 ms"), std::string::npos) << text;
  EXPECT_NE(text.find("bwd exp.  dense 12000.000"), std::string::npos) << text;
}

// A built-in training scenario with its pipeline reshaped: every item non-negative, the forward
// and backward sums the training phases', and the parts summing to the step.
// The built-in 3-D training scenario (TP 2, EP 8) with its pipeline reshaped; attention DP fills
// the 64 GPUs and every micro-batch stays one 4,096-token sequence, as in the built-in.
ScenarioSpec reshaped_mixtral(int stages, int micro_batches, const std::string& schedule,
                              int virtual_stages) {
  auto json = nlohmann::json::parse(find_builtin_scenario("mixtral-train-h100x64-3d")->json);
  auto& pipeline = json["parallelism"]["pipeline_parallel"];
  pipeline = {{"size", stages}, {"schedule", schedule}, {"micro_batches", micro_batches}};
  if (virtual_stages > 1) pipeline["virtual_stages"] = virtual_stages;
  json["parallelism"]["data_parallel"]["size"] = 64 / (2 * stages);
  json["workload"]["tokens_per_gpu"] = 4096 * micro_batches;
  return parse_scenario(json.dump(), "reshaped mixtral-train-h100x64-3d");
}

// Every item non-negative, the forward and backward sums the training phases', the parts summing
// to the step.
void expect_a_full_account(int stages, int micro_batches, const std::string& schedule,
                           int virtual_stages) {
  const ScenarioSpec s = reshaped_mixtral(stages, micro_batches, schedule, virtual_stages);
  const Report r = simulate(s);
  const TrainingPhases& t = *r.training;
  const StepAccount a = account_step(r);
  const std::string shape = fmt::format("PP {} m {} {}", stages, micro_batches, schedule);
  for (const auto& item : a.step_items) EXPECT_GE(item.seconds, 0) << shape << " " << item.name;
  EXPECT_NEAR(a.phase_sums.total(), t.forward, 1e-12 * t.forward) << shape;
  EXPECT_NEAR(a.backward_sums.total(), t.backward, 1e-12 * t.backward) << shape;
  EXPECT_NEAR(a.accounted(), r.step_time_s, 1e-12 * r.step_time_s) << shape;
}

TEST(TrainingAccount, AddsUpOverPipelineShapes) {
  expect_a_full_account(4, 8, "1f1b", 1);  // the built-in
  expect_a_full_account(4, 2, "1f1b", 1);  // fewer micro-batches than stages
  expect_a_full_account(4, 8, "interleaved", 2);
  expect_a_full_account(2, 4, "1f1b", 1);
}

TEST(TrainingAccount, WithoutAPipelineEveryBlockRunsEachMicroBatch) {
  // mixtral-train-h100x64: one stage, so the blocks are all 32 and the forward is theirs.
  const Report r = simulate(load_scenario("mixtral-train-h100x64"));
  const StepAccount a = account_step(r);
  double blocks = 0;
  for (const auto& layer : r.layers) blocks += layer.phases.total;
  EXPECT_NEAR(a.phase_sums.total(), r.training->micro_batches * blocks, 1e-12 * blocks);
  for (const auto& item : a.step_items) EXPECT_GE(item.seconds, 0) << item.name;
  EXPECT_NEAR(a.accounted(), r.step_time_s, 1e-12 * r.step_time_s);
}

TEST(TrainingAccount, TwoMicroBatchesOnFourStagesRunTheSlowestStageTwice) {
  // The review's case: PP 4 with 2 micro-batches of 4,096 tokens printed
  // forward_other_micro_batches -58.827 ms (then). The forward is 2 x stage 0's 8 blocks of
  // 3.789400 ms = 30.315 ms (docs/parallelism.md) = 60.63 ms, not one pass through all 32 blocks
  // (121.261 ms).
  const Report r = simulate(reshaped_mixtral(4, 2, "1f1b", 1));
  const StepAccount a = account_step(r);
  EXPECT_NEAR(a.phase_sums.total() * 1e3, 2 * 30.315, 0.01);
  for (const auto& item : a.step_items) EXPECT_GE(item.seconds, 0) << item.name;
  EXPECT_NEAR(a.accounted(), r.step_time_s, 1e-12 * r.step_time_s);
}

}  // namespace
}  // namespace moesim::sim
