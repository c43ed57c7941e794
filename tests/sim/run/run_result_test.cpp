#include "sim/run/run_result.hpp"

#include <gtest/gtest.h>

namespace moesim::sim {
namespace {

Report step(double tokens_per_step, double step_time_s, int gpus) {
  Report report;
  report.tokens_per_step = tokens_per_step;
  report.step_time_s = step_time_s;
  report.gpus = gpus;
  return report;
}

TEST(Report, TokensPerSecondIsTokensPerStepOverStepTime) {
  // 40000 tokens in 0.5 s: 80000 tokens/s.
  EXPECT_DOUBLE_EQ(step(40000, 0.5, 8).tokens_per_s(), 80000);
}

TEST(Report, TokensPerSecondIsZeroWithoutAStepTime) {
  // A scenario that did not run has no rate rather than a division by zero.
  EXPECT_DOUBLE_EQ(step(40000, 0, 8).tokens_per_s(), 0);
  EXPECT_DOUBLE_EQ(step(40000, -1, 8).tokens_per_s(), 0);
}

TEST(Report, CostPerMillionTokensPaysForEveryGpu) {
  Report report = step(40000, 0.5, 8);
  report.usd_per_gpu_hour = 2.0;
  // 8 GPUs x $2/h = $16/h = $16 / 3600 per second; at 80000 tokens/s a million tokens take
  // 12.5 s: 12.5 x 16 / 3600 = $1/18.
  ASSERT_TRUE(report.cost_per_million_tokens().has_value());
  EXPECT_DOUBLE_EQ(*report.cost_per_million_tokens(), 1.0 / 18);
}

TEST(Report, CostScalesWithPriceAndGpusAndInverselyWithThroughput) {
  Report base = step(1e6, 1.0, 1);
  base.usd_per_gpu_hour = 3.6;
  // One GPU at $3.60/h = $0.001/s; a million tokens in 1 s cost $0.001.
  EXPECT_DOUBLE_EQ(*base.cost_per_million_tokens(), 0.001);
  Report doubled = base;
  doubled.gpus = 2;  // twice the GPUs for the same tokens: twice the cost
  EXPECT_DOUBLE_EQ(*doubled.cost_per_million_tokens(), 0.002);
  Report slower = base;
  slower.step_time_s = 4;  // a quarter of the throughput: four times the cost
  EXPECT_DOUBLE_EQ(*slower.cost_per_million_tokens(), 0.004);
}

TEST(Report, NoPriceMeansNoCost) {
  EXPECT_FALSE(step(40000, 0.5, 8).cost_per_million_tokens().has_value());
}

TEST(Report, NoThroughputMeansNoCost) {
  Report stalled = step(40000, 0, 8);
  stalled.usd_per_gpu_hour = 2.0;
  EXPECT_FALSE(stalled.cost_per_million_tokens().has_value());
  Report empty = step(0, 0.5, 8);
  empty.usd_per_gpu_hour = 2.0;
  EXPECT_FALSE(empty.cost_per_million_tokens().has_value());
}

TEST(Report, FreeGpusCostNothing) {
  Report report = step(40000, 0.5, 8);
  report.usd_per_gpu_hour = 0.0;
  // A price of 0 is a price (spare capacity), unlike no price at all.
  ASSERT_TRUE(report.cost_per_million_tokens().has_value());
  EXPECT_DOUBLE_EQ(*report.cost_per_million_tokens(), 0.0);
}

}  // namespace
}  // namespace moesim::sim
