// The training pipeline played op by op (issue 22): Megatron's 1F1B and interleaved orders, each
// stage's bubble, and agreement with the step account's (p - 1)(F + B + 2 v s) / v.
#include "sim/run/pipeline_schedule.hpp"

#include <gtest/gtest.h>

#include <string>

#include "sim/run/training_step.hpp"

namespace moesim::sim {
namespace {

// "F3 [3,4]" for each op of a stage, in the order it runs them.
std::string drawn(const PipelineTimeline& timeline, int stage) {
  std::string text;
  for (const PipelineOp& op : timeline.stages[stage])
    text += (text.empty() ? "" : " ") + std::string(op.backward ? "B" : "F") +
            std::to_string(op.micro_batch) + " [" + std::to_string(static_cast<int>(op.start)) +
            "," + std::to_string(static_cast<int>(op.end)) + "]";
  return text;
}

TEST(PipelineSchedule, OneFOneBOfFourStagesAndEightMicroBatchesAsDrawnByHand) {
  // F = 1, B = 2, no message time. Stage s warms up with 4 - s - 1 forwards, then alternates.
  // Forward i reaches stage s at i + s (stages pass it on back to back while warming up); the
  // last stage turns F0 round at 4, and B0 climbs back one stage per 2: stage 2 at 6, 1 at 8,
  // 0 at 10. From then on each stage alternates F then B, waiting for the stage below's B:
  //
  //   one character per time unit, from 0 to 33 ('.' idle):
  //   s0   FFFF......BBFBBFBBFBBFBB.BB.BB.BB   (idle 4-10, 24-25, 27-28, 30-31)
  //   s3   ...FBBFBBFBBFBBFBBFBBFBBFBB......   (idle 0-3, 27-33)
  //
  // Makespan (m + p - 1)(F + B) = 11 x 3 = 33; every stage idles (p - 1)(F + B) = 9.
  const PipelineTimeline t = play_pipeline({.stages = 4,
                                            .micro_batches = 8,
                                            .virtual_stages = 1,
                                            .forward = 1,
                                            .backward = 2,
                                            .send_recv = 0});
  EXPECT_EQ(drawn(t, 0),
            "F0 [0,1] F1 [1,2] F2 [2,3] F3 [3,4] B0 [10,12] F4 [12,13] B1 [13,15] F5 [15,16] "
            "B2 [16,18] F6 [18,19] B3 [19,21] F7 [21,22] B4 [22,24] B5 [25,27] B6 [28,30] "
            "B7 [31,33]");
  EXPECT_EQ(drawn(t, 3),
            "F0 [3,4] B0 [4,6] F1 [6,7] B1 [7,9] F2 [9,10] B2 [10,12] F3 [12,13] B3 [13,15] "
            "F4 [15,16] B4 [16,18] F5 [18,19] B5 [19,21] F6 [21,22] B6 [22,24] F7 [24,25] "
            "B7 [25,27]");
  EXPECT_DOUBLE_EQ(t.makespan, 33);
  for (int stage = 0; stage < 4; ++stage) EXPECT_DOUBLE_EQ(t.bubble(stage), 9) << stage;
  // The bubble's share of the pipeline: 9 / 33 = 3 / 11 = (p - 1) / (m + p - 1).
  EXPECT_DOUBLE_EQ(t.bubble(0) / t.makespan, pipeline_bubble_fraction(4, 8, 1));
}

TEST(PipelineSchedule, MessagesFollowEachOpAndStretchTheBubbleAsTheAccountSays) {
  // F = 1, B = 2, s = 0.5: each op holds its compute then its message, so an op takes 1.5 or 2.5
  // and the makespan is (m + p - 1)(F + B + 2 s) = 11 x 4 = 44: forward 8, backward 16, messages
  // 16 x 0.5 = 8, bubble 3 x 4 = 12 on every stage.
  const PipelineTimeline t = play_pipeline({4, 8, 1, 1, 2, 0.5});
  EXPECT_DOUBLE_EQ(t.makespan, 44);
  EXPECT_DOUBLE_EQ(t.bubble(1), 12);
  const PipelineOp& first = t.stages[0].front();
  EXPECT_DOUBLE_EQ(first.compute_end, 1);
  EXPECT_DOUBLE_EQ(first.end, 1.5);
  EXPECT_DOUBLE_EQ(t.stages[1].front().start, 1.5);  // F0 reaches stage 1 after its message
}

TEST(PipelineSchedule, InterleavedMakespanIsTheAccountsForEveryShapeTried) {
  // The account: m F + m B + 2 v m s + (p - 1)(F + B + 2 v s) / v. Megatron's interleaved order
  // (warm-up 2 (p - s - 1) + (v - 1) p chunk forwards) reaches it exactly with uniform stages.
  struct Shape {
    int p, v, m;
  };
  for (const Shape& shape : {Shape{4, 2, 8}, Shape{4, 4, 8}, Shape{2, 2, 4}, Shape{8, 2, 16},
                             Shape{4, 3, 8}, Shape{4, 1, 2}, Shape{1, 1, 4}}) {
    const double F = 1.3, B = 2.9, s = 0.2;
    const PipelineTimeline t = play_pipeline({shape.p, shape.m, shape.v, F, B, s});
    const double messages = shape.p > 1 ? 2.0 * shape.v * shape.m * s : 0.0;
    const double bubble = (shape.p - 1) * (F + B + (shape.p > 1 ? 2 * shape.v * s : 0)) / shape.v;
    const double account = shape.m * (F + B) + messages + bubble;
    EXPECT_NEAR(t.makespan, account, 1e-9) << shape.p << " " << shape.v << " " << shape.m;
    for (int stage = 0; stage < shape.p; ++stage)
      EXPECT_NEAR(t.bubble(stage), bubble, 1e-9) << stage;
    EXPECT_EQ(t.stages[0].size(), 2u * shape.m * shape.v);
  }
}

TEST(PipelineSchedule, InterleavedChunksRunInMegatronsOrder) {
  // p = 2, v = 2, m = 2: stage 0 warms up with 2 (2 - 0 - 1) + (2 - 1) 2 = 4 forwards, chunk 0
  // of micro-batches 0 and 1, then chunk 1 of both; backwards run chunk 1 first.
  const PipelineTimeline t = play_pipeline({2, 2, 2, 2, 4, 0});
  const auto& ops = t.stages[0];
  ASSERT_EQ(ops.size(), 8u);
  EXPECT_EQ(ops[0].chunk, 0);
  EXPECT_EQ(ops[1].micro_batch, 1);
  EXPECT_EQ(ops[2].chunk, 1);
  EXPECT_FALSE(ops[3].backward);
  EXPECT_TRUE(ops[4].backward);
  EXPECT_EQ(ops[4].chunk, 1);
  EXPECT_EQ(ops[7].chunk, 0);
}

}  // namespace
}  // namespace moesim::sim
