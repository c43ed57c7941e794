// The two built-in parallel layouts and the figures docs/parallelism.md derives for them by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "sim/run/inputs.hpp"
#include "sim/run/simulate.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

TEST(BuiltinParallelScenarios, MixtralTpPpEpDpAddsUpAsDerived) {
  const Report r = simulate(load_scenario("mixtral-train-h100x64-3d"));
  ASSERT_TRUE(r.training.has_value());
  const TrainingPhases& t = *r.training;
  // Stage 0 holds 233,439,232 replicated and 1,409,286,144 expert parameters per GPU.
  const double dense = 233439232, experts = 1409286144;
  EXPECT_DOUBLE_EQ(r.memory.weights, (dense + experts) * 2);             // 3.06 GiB
  EXPECT_DOUBLE_EQ(r.memory.optimizer, 12 * (dense / 8 + experts / 2));  // 8.20 GiB
  // 34 x 4096 tokens x 4096 hidden x 8 blocks x 4 micro-batches in flight / TP 2 = 8.5 GiB.
  EXPECT_DOUBLE_EQ(r.memory.activations, 34.0 * 4096 * 4096 * 8 * 4 / 2);
  EXPECT_NEAR(r.memory.total() / kGiB, 22.82, 0.005);
  // 1F1B, p = 4, m = 8: 3 / 11 of the pipeline is bubble.
  EXPECT_NEAR(t.bubble_fraction, 3.0 / 11.0, 1e-15);
  // Send/recv of 2048 x 4096 x 2 bytes over one 400 Gb/s NIC at 0.8, + 2 us.
  EXPECT_NEAR(t.send_recv, 16777216.0 / 40e9 + 2e-6, 1e-12);
  // Reduce-scatter of the replicated gradients over DP 8 in 2 nodes of 4 (NIC leg slower:
  // 1/2 x 466,878,464 / 4 / 40 GB/s, + 2 us + 3 x 1 us) and of the expert gradients over expert
  // DP 2 in 2 nodes (1/2 x 2,818,572,288 / 40 GB/s + 2 us).
  const double grads = 0.5 * dense * 2 / 4 / 40e9 + 5e-6 + 0.5 * experts * 2 / 40e9 + 2e-6;
  EXPECT_NEAR(t.gradient_reduce_work, grads, 1e-12);  // 36.698 ms
  EXPECT_NEAR(t.gradient_reduce, grads / 8, 1e-12);   // the last of 8 blocks exposed
  // Adam: 28 bytes x this GPU's share at 3.35 TB/s x 0.8.
  EXPECT_NEAR(t.optimizer, 28 * (dense / 8 + experts / 2) / (3.35e12 * 0.8), 1e-12);
  EXPECT_DOUBLE_EQ(r.step_time_s, t.total());
}

// y at x on the profile's 2-rank curve of `points`, log-log between the neighbours.
double on_curve(const std::vector<TimePoint>& points, double bytes) {
  const auto hi = std::upper_bound(points.begin(), points.end(), bytes,
                                   [](double b, const TimePoint& p) { return b < p.bytes; });
  const TimePoint& lo = *(hi - 1);
  return lo.us *
         std::pow(hi->us / lo.us, std::log(bytes / lo.bytes) / std::log(hi->bytes / lo.bytes));
}

const std::vector<TimePoint>& two_ranks(const std::vector<CollectiveTimes>& curves) {
  return std::find_if(curves.begin(), curves.end(), [](const auto& c) { return c.ranks == 2; })
      ->points;
}

TEST(BuiltinParallelScenarios, DeepSeekR1Tp8WithMoeTp8IsPricedFromTheMeasuredCurves) {
  const RunInputs inputs = resolve_inputs(load_scenario("dsr1-fp8-tp8-h200x8"), {});
  const Report r = simulate(inputs);
  const MeasuredCollectives& c = inputs.profile->collectives();
  const LayerResult& moe = r.layers.back();
  ASSERT_TRUE(moe.moe);
  // One attention all-reduce of 64 x 7168 x 2 bytes on 8 ranks = 2 ranks at x 1.75 (21.36 us).
  EXPECT_NEAR(moe.phases.tp_all_reduce, on_curve(two_ranks(c.all_reduce), 917504 * 1.75) * 1e-6,
              1e-12);
  // All-gather of 64 x 7168 FP8 bytes on 8 ranks = 2 ranks at x (7/8) / (1/2) (12.30 us).
  EXPECT_NEAR(moe.phases.moe_tp_all_gather, on_curve(two_ranks(c.all_gather), 458752 * 1.75) * 1e-6,
              1e-12);
  // Reduce-scatter of the bf16 partial sums, 917,504 bytes (13.94 us).
  EXPECT_NEAR(moe.phases.moe_tp_reduce_scatter,
              on_curve(two_ranks(c.reduce_scatter), 917504 * 1.75) * 1e-6, 1e-12);
  // No expert parallel, no all-to-all: the NVLink bytes are the MoE TP rings', each GPU passing on
  // 7/8 of the all-gather's 458,752 bytes and of the reduce-scatter's 917,504: 401,408 + 802,816
  // = 1,204,224 bytes (the EP group is this one GPU).
  EXPECT_DOUBLE_EQ(moe.scale_up_bytes, 1204224.0);
  // MLA latent (512 + 64) x 2 bytes on every TP rank: 64 x 4096 x 61 blocks x 1152 = 17.16 GiB.
  EXPECT_DOUBLE_EQ(r.memory.kv_cache, 64.0 * 4096 * 61 * 1152);
  // The step (docs/parallelism.md): decode without overlap, so a MoE block is its phases one after
  // another, its dispatch the all-gather alone (no all-to-all); a dense block holds two attention
  // all-reduces. Each block also streams its elementwise kernels' bytes (attention_cost.hpp) at the
  // measured copy rate, 4.23 TB/s: per token 2 norms 114,688 + rotary 16 heads x 64 x 2 x 2 = 4,096
  // + FP8 quantisation 43,008 + activation 3 x 18,432 / 8 x 2 = 13,824 (dense MLP) or
  // 3 x 2,048 / 8 x 2 = 1,536 (shared expert), x 64 tokens = 2.66 us (dense) and 2.47 us (MoE).
  // 3 dense blocks of 0.1370 + 58 MoE blocks of 0.5546 = 32.577 ms, + LM head and sampling
  // 0.0586 + small-kernel overhead 2.2984 + graph replay 0.0096 = 34.943 ms.
  const PhaseTimes& m = moe.phases;
  EXPECT_DOUBLE_EQ(m.dispatch, m.moe_tp_all_gather);
  EXPECT_NEAR(m.total, m.dense + m.gate + m.dispatch + m.experts + m.combine, 1e-15);
  const PhaseTimes& dense = r.layers.front().phases;
  ASSERT_FALSE(r.layers.front().moe);
  EXPECT_NEAR(dense.tp_all_reduce, 2 * m.tp_all_reduce, 1e-15);
  EXPECT_NEAR(dense.total * 1e3, 0.1370, 5e-5);
  EXPECT_NEAR(m.total * 1e3, 0.5546, 5e-5);
  const StepExtras& x = r.extras;
  EXPECT_NEAR(r.step_time_s,
              3 * dense.total + 58 * m.total + x.lm_head + x.kernel_overhead + x.launch_fixed,
              1e-12);
  EXPECT_NEAR(r.step_time_s * 1e3, 34.943, 5e-4);
}

}  // namespace
}  // namespace moesim::sim
