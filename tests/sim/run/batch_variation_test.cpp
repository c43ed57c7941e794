#include "sim/run/batch_variation.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "sim/run/simulate.hpp"
#include "sim/spec/builtin_scenarios.hpp"

namespace moesim::sim {
namespace {

// E[max of 8 standard normals] (Harter 1961's table; the integral of 1 - Phi(x)^8).
constexpr double kMaxOfEight = 1.4236003;

// The built-in quickstart (Mixtral-8x7B, EP 8, one expert per GPU, 4096 tokens a GPU, uniform
// top-2, dropless) priced by the roofline, analytic all-to-alls.
ScenarioSpec quickstart(double sigma, bool sampling) {
  auto s = load_scenario("quickstart");
  s.profile.source = "roofline";
  s.network.model = NetworkModelKind::Analytic;
  s.workload.routing.batch_load_sigma = sigma;
  s.workload.routing.sampling_noise = sampling;
  return s;
}

// The scenario's own uniform popularity, replayed as a trace's would be.
SimulationOverrides replayed_uniform(const ScenarioSpec& s) {
  SimulationOverrides o;
  o.expert_popularity.assign(s.model.moe_layers, std::vector<double>(s.model.experts, 1.0));
  return o;
}

TEST(BatchVariation, OffPricesTheExpectedLoadsAsBefore) {
  // Sigma 0 without sampling noise prices every GPU at its expected load: the step is the one a
  // replay of the same loads gives (never varied), and every GPU is at the mean.
  const auto s = quickstart(0, false);
  const Report off = simulate(s);
  const Report replayed = simulate(s, {}, replayed_uniform(s));
  EXPECT_FALSE(off.load_variation.applied);
  EXPECT_DOUBLE_EQ(off.step_time_s, replayed.step_time_s);
  EXPECT_DOUBLE_EQ(off.imbalance, 1.0);
  // The figures moesim gave before the variation (simulate_test.cpp's derivations then): each
  // expert's 8192 copies at 2 x 176,160,768 params x 8192 / (0.6 x 989 TFLOP/s) = 4.864 ms, and
  // each GPU's 7/8 x 8192 copies of 8192 B over 0.8 x 450 GB/s plus 1 us = 164.11 us.
  EXPECT_NEAR(off.layers[0].phases.experts, 2.0 * 176160768.0 * 8192 / (0.6 * 989e12), 1e-12);
  EXPECT_NEAR(off.layers[0].phases.dispatch, 58720256.0 / (0.8 * 450e9) + 1e-6, 1e-12);
}

TEST(BatchVariation, AReplayedTraceIsNeverVaried) {
  const auto s = quickstart(0.5, true);
  EXPECT_FALSE(scenario_load_variation(s, replayed_uniform(s)).active());
  const Report varied_scenario_replayed = simulate(s, {}, replayed_uniform(s));
  EXPECT_DOUBLE_EQ(varied_scenario_replayed.step_time_s,
                   simulate(quickstart(0, false)).step_time_s);
  EXPECT_FALSE(varied_scenario_replayed.load_variation.applied);
}

TEST(BatchVariation, ACapacityBoundsTheRowsSoNothingIsVaried) {
  auto s = quickstart(0.5, true);
  s.policy.capacity_factor = 1.25;
  EXPECT_FALSE(scenario_load_variation(s, {}).active());
}

TEST(BatchVariation, TheBusiestGpuIsPricedAtItsExpectedMaximum) {
  // Each GPU expects 4096 x 8 x 2 / 8 = 8192 copies; Poisson sampling gives sd sqrt(8192) = 90.51,
  // so the busiest of 8 expects 8192 + 90.51 x 1.42360 = 8320.85: imbalance 1.015729. The expert
  // phase is that GPU's GEMMs: 2 x 176,160,768 params x 8320.85 rows at 0.6 x 989 TFLOP/s.
  const Report report = simulate(quickstart(0, true));
  const double busiest = 8192 + std::sqrt(8192.0) * kMaxOfEight;
  EXPECT_TRUE(report.load_variation.applied);
  EXPECT_NEAR(report.imbalance, busiest / 8192, 1e-6);
  EXPECT_DOUBLE_EQ(report.load_variation.expected_imbalance, 1.0);
  EXPECT_NEAR(report.layers[0].phases.experts, 2.0 * 176160768.0 * busiest / (0.6 * 989e12),
              1e-6 * report.layers[0].phases.experts);
  // The step prices a GPU that is busier than the mean, and more so with a spread of shares:
  // sigma 0.2 adds (e^0.04 - 1) x 8192^2 to the variance, sd sqrt(8192 + 2.7394e6) = 1657.6.
  const Report spread = simulate(quickstart(0.2, true));
  const double spread_busiest =
      8192 + std::sqrt(8192 + std::expm1(0.04) * 8192.0 * 8192.0) * kMaxOfEight;
  EXPECT_NEAR(spread.imbalance, spread_busiest / 8192, 1e-6);
  EXPECT_GT(spread.step_time_s, report.step_time_s);
}

TEST(BatchVariation, RunsRepeatByteForByte) {
  const auto s = quickstart(0.3, true);
  EXPECT_EQ(simulate(s).step_time_s, simulate(s).step_time_s);
}

}  // namespace
}  // namespace moesim::sim
