#include "sim/routing/load_variation.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <numeric>
#include <vector>

namespace moesim::sim {
namespace {

// E[max of G standard normals] in closed form: 1/sqrt(pi) for G = 2; for G = 4,
// (3/sqrt(pi)) (1/2 + arcsin(1/3) / pi) (Owen and Steck 1962; tables in Harter 1961).
const double kMaxOfTwo = std::numbers::inv_sqrtpi;
const double kMaxOfFour =
    3 * std::numbers::inv_sqrtpi * (0.5 + std::asin(1.0 / 3) / std::numbers::pi);

// One expert per GPU, expert g on GPU g.
Placement one_expert_per_gpu(int gpus) {
  Placement p;
  p.gpus = gpus;
  for (int g = 0; g < gpus; ++g) {
    p.slots.push_back({g});
    p.replicas.push_back({g});
  }
  return p;
}

TEST(ExpectedMaximum, EqualNormalsGiveTheMeanPlusSdTimesTheMaxOfStandardNormals) {
  // 4 GPUs at 100 +- 10: 100 + 10 x 1.029375 = 110.29375.
  const GpuLoadSpread four{{100, 100, 100, 100}, {10, 10, 10, 10}};
  EXPECT_NEAR(expected_maximum(four), 100 + 10 * kMaxOfFour, 1e-6);
  // 2 GPUs at 50 +- 4: 50 + 4 / sqrt(pi) = 52.2568.
  const GpuLoadSpread two{{50, 50}, {4, 4}};
  EXPECT_NEAR(expected_maximum(two), 50 + 4 * kMaxOfTwo, 1e-6);
}

TEST(ExpectedMaximum, WithoutSpreadItIsTheLargestMean) {
  const GpuLoadSpread fixed{{3, 7, 5}, {0, 0, 0}};
  EXPECT_DOUBLE_EQ(expected_maximum(fixed), 7);
}

TEST(ExpectedMaximum, AFarAheadGpuIsTheMaximumAlone) {
  // 1000 +- 5 against 10 +- 5: the second is 198 sd behind and never the maximum.
  const GpuLoadSpread apart{{1000, 10}, {5, 5}};
  EXPECT_NEAR(expected_maximum(apart), 1000, 1e-6);
}

TEST(GpuLoadSpread, LogNormalSharesAndSamplingAddTheirVariances) {
  // 4 experts of 100 copies, one per GPU. sigma^2 = ln(1.0625): Var X = 0.0625, so the shares add
  // 0.0625 x 100^2 = 625 and the Poisson copies 100: sd = sqrt(725) = 26.926.
  const LoadVariation variation{std::sqrt(std::log(1.0625)), true};
  const auto spread = gpu_load_spread(one_expert_per_gpu(4), {100, 100, 100, 100}, variation);
  for (int g = 0; g < 4; ++g) {
    EXPECT_DOUBLE_EQ(spread.mean[g], 100);
    EXPECT_NEAR(spread.sd[g], std::sqrt(725.0), 1e-9);
  }
  // Under MoE TP 4 a unit of load is 4 copies: 400 Poisson copies, variance 400 copies^2 = 25 in
  // units of load, so sd = sqrt(625 + 25) = 25.495.
  const LoadVariation sharded{std::sqrt(std::log(1.0625)), true, 4};
  EXPECT_NEAR(gpu_load_spread(one_expert_per_gpu(4), {100, 100, 100, 100}, sharded).sd[0],
              std::sqrt(650.0), 1e-9);
}

TEST(BusiestBatch, TheBusiestGpuCarriesTheExpectedMaximumAndTheTotalStays) {
  // As above: E[max] = 100 + 26.926 x 1.029375 = 127.717 copies. GPU 0 (ties go to the lowest
  // index) scales by a = 1.27717; the others share 400 - 127.717 = 272.283, b = 0.907610 each.
  const LoadVariation variation{std::sqrt(std::log(1.0625)), true};
  const auto batch = busiest_batch(one_expert_per_gpu(4), {100, 100, 100, 100}, variation);
  const double expected_max = 100 + std::sqrt(725.0) * kMaxOfFour;
  EXPECT_EQ(batch.gpu, 0);
  EXPECT_NEAR(batch.expected_max, expected_max, 1e-6);
  EXPECT_DOUBLE_EQ(batch.expected_loads_max, 100);
  EXPECT_DOUBLE_EQ(batch.mean, 100);
  EXPECT_NEAR(batch.load[0], expected_max, 1e-6);
  for (int e = 1; e < 4; ++e) EXPECT_NEAR(batch.load[e], (400 - expected_max) / 3, 1e-6);
  EXPECT_NEAR(std::accumulate(batch.load.begin(), batch.load.end(), 0.0), 400, 1e-9);
}

TEST(BusiestBatch, AReplicaSplitsItsExpertsCopiesAndTheirNoise) {
  // Expert 0 (200 copies) has a replica on both GPUs; expert 1 (100) sits on GPU 0, expert 2 (100)
  // on GPU 1. Each GPU expects 100 + 100 = 200. Sampling only: Var = (1/2)^2 x 200 + 100 = 150.
  // E[max of 2] = 200 + sqrt(150) / sqrt(pi) = 206.910. GPU 0's experts {0, 1} hold A = 300 of
  // N = 400 copies: a = 206.910 / 200 = 1.034550, b = (400 - 300 a) / 100 = 0.896350.
  Placement p;
  p.gpus = 2;
  p.slots = {{0, 1}, {0, 2}};
  p.replicas = {{0, 1}, {0}, {1}};
  const auto batch = busiest_batch(p, {200, 100, 100}, {0, true});
  const double a = (200 + std::sqrt(150.0) * kMaxOfTwo) / 200;
  const double b = (400 - 300 * a) / 100;
  EXPECT_EQ(batch.gpu, 0);
  EXPECT_NEAR(batch.load[0], 200 * a, 1e-6);
  EXPECT_NEAR(batch.load[1], 100 * a, 1e-6);
  EXPECT_NEAR(batch.load[2], 100 * b, 1e-6);
  // GPU 0 now holds half of expert 0 and all of expert 1: 100 a + 100 a = the expected maximum.
  EXPECT_NEAR(batch.load[0] / 2 + batch.load[1], batch.expected_max, 1e-9);
}

TEST(BusiestBatch, NoVariationOrOneGpuLeavesTheLoads) {
  const std::vector<double> load{300, 100};
  const auto off = busiest_batch(one_expert_per_gpu(2), load, {0, false});
  EXPECT_EQ(off.load, load);
  EXPECT_DOUBLE_EQ(off.expected_max, 300);
  Placement one;
  one.gpus = 1;
  one.slots = {{0, 1}};
  one.replicas = {{0}, {0}};
  const auto single = busiest_batch(one, load, {0.5, true});
  EXPECT_EQ(single.load, load);  // the maximum of one GPU is its load
}

}  // namespace
}  // namespace moesim::sim
