#include "sim/cost/layer_schedule.hpp"

#include <gtest/gtest.h>

namespace moesim::sim {
namespace {

// dense 1, gate 0, dispatch 2, experts 3, combine 2 (any unit).
PhaseTimes toy_phases() {
  PhaseTimes p;
  p.dense = 1;
  p.dispatch = 2;
  p.experts = 3;
  p.combine = 2;
  return p;
}

TEST(LayerSchedule, NoOverlapAddsEveryPhaseOfEveryMicroBatch) {
  // 2 x (1 + 2 + 3 + 2) = 16.
  EXPECT_DOUBLE_EQ(schedule_layer(toy_phases(), 2, Overlap::None).makespan, 16);
}

TEST(LayerSchedule, CommComputeHidesTheAllToAllsBehindTheExperts) {
  // Per micro-batch: front 1, then experts (3) beside dispatch (2) + combine (2): the combine
  // starts at 1 + max(2, 3 - 2) = 3 and ends at 5. Two micro-batches: 10.
  const auto s = schedule_layer(toy_phases(), 2, Overlap::CommCompute);
  EXPECT_DOUBLE_EQ(s.micro_batches[0].combine, 3);
  EXPECT_DOUBLE_EQ(s.makespan, 10);
}

TEST(LayerSchedule, TwoMicroBatchesPipelineOnTwoStreams) {
  // A0 [0,1]  D0 [1,3]  A1 [1,2]  D1 [3,5]  E0 [3,6]  C0 [6,8]  E1 [6,9]  C1 [9,11]: 11.
  const auto s = schedule_layer(toy_phases(), 2, Overlap::TwoMicroBatch);
  EXPECT_DOUBLE_EQ(s.micro_batches[1].dense, 1);
  EXPECT_DOUBLE_EQ(s.micro_batches[1].dispatch, 3);
  EXPECT_DOUBLE_EQ(s.micro_batches[0].experts, 3);
  EXPECT_DOUBLE_EQ(s.micro_batches[0].combine, 6);
  EXPECT_DOUBLE_EQ(s.micro_batches[1].experts, 6);
  EXPECT_DOUBLE_EQ(s.micro_batches[1].combine, 9);
  EXPECT_DOUBLE_EQ(s.makespan, 11);
}

TEST(LayerSchedule, SingleBatchHidesTheSharedExpertsAndTheDownProjection) {
  // Of dense 1, shared experts 0.5; of experts 3, down 1. The dispatch leaves at 1 - 0.5 = 0.5 and
  // ends at 2.5; the experts start then (the compute stream is free from 1) and end at 5.5; the
  // combine sends beside the down GEMM from 5.5 - 1 = 4.5 and ends at 6.5, against 8 unhidden.
  PhaseTimes p = toy_phases();
  p.shared_experts = 0.5;
  p.experts_down = 1;
  const auto s = schedule_layer(p, 1, Overlap::SingleBatch);
  EXPECT_DOUBLE_EQ(s.micro_batches[0].dispatch, 0.5);
  EXPECT_DOUBLE_EQ(s.micro_batches[0].experts, 2.5);
  EXPECT_DOUBLE_EQ(s.micro_batches[0].combine, 4.5);
  EXPECT_DOUBLE_EQ(s.makespan, 6.5);
}

TEST(LayerSchedule, SingleBatchHidesNoMoreThanTheShorterOfEachPair) {
  // Shared experts 3 of dense 4 beside a dispatch of 2: the experts wait for the compute stream
  // (front 4) and start at 4, not at the dispatch's end (1 + 2 = 3). A down GEMM of 2.5 beside a
  // combine of 2 hides 2: the combine starts at 4 + 3 - 2 = 5 and ends with the experts at 7.
  PhaseTimes p = toy_phases();
  p.dense = 4;
  p.shared_experts = 3;
  p.experts_down = 2.5;
  const auto s = schedule_layer(p, 1, Overlap::SingleBatch);
  EXPECT_DOUBLE_EQ(s.micro_batches[0].dispatch, 1);
  EXPECT_DOUBLE_EQ(s.micro_batches[0].experts, 4);
  EXPECT_DOUBLE_EQ(s.micro_batches[0].combine, 5);
  EXPECT_DOUBLE_EQ(s.makespan, 7);
}

TEST(LayerSchedule, OneMicroBatchCannotOverlapWithItself) {
  // Two-micro-batch with a single micro-batch degenerates to the serial 8.
  EXPECT_DOUBLE_EQ(schedule_layer(toy_phases(), 1, Overlap::TwoMicroBatch).makespan, 8);
}

}  // namespace
}  // namespace moesim::sim
