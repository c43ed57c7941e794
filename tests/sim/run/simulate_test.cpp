#include "sim/run/simulate.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "base/config_error.hpp"
#include "sim/cost/measured_profile.hpp"
#include "sim/report/report.hpp"
#include "sim/spec/builtin_scenarios.hpp"
#include "sim/spec/model_presets.hpp"

namespace moesim::sim {
namespace {

// The built-in quickstart priced by the roofline (datasheet x efficiency), so expected numbers
// derive by hand.
ScenarioSpec roofline_quickstart() {
  auto s = load_scenario("quickstart");
  s.profile.source = "roofline";
  return s;
}

// quickstart's experts expect 4096 x 8 x 2 / 8 = 8192 copies each, one per GPU; a batch's copies
// are Poisson around that (sd sqrt(8192) = 90.51), and the step waits for the busiest of the 8
// GPUs: 8192 + 90.51 x 1.4236 (E[max of 8 standard normals]) = 8320.85 copies
// (docs/capacity-policy.md, "Batch-to-batch load variation").
const double kBusiestCopies = 8192 + std::sqrt(8192.0) * 1.4236003;

TEST(Simulate, ExpertPhaseIsTheComputeRoofline) {
  // Mixtral expert: 3 x 4096 x 14336 = 176,160,768 parameters. EP 8 with one expert per GPU and
  // uniform top-2 routing: the busiest expert gets 8320.85 copies. FLOPs = 2 x params x 8320.85 =
  // 2.932e12 at 0.6 x 989e12 FLOP/s = 4.940 ms; reading the weights (352 MB at 0.8 x 3.35 TB/s =
  // 0.13 ms) is hidden.
  const auto report = simulate(roofline_quickstart());
  const double expected = 2.0 * 176160768.0 * kBusiestCopies / (0.6 * 989e12);
  ASSERT_EQ(report.layers.size(), 32u);
  EXPECT_NEAR(report.layers[0].phases.experts, expected, 1e-7 * expected);
}

TEST(Simulate, DispatchIsNvlinkBytesOverBandwidthPlusLatency) {
  // Each GPU sends 4096 x 2 copies, 7/8 of them to its 7 peers: 7168 x 4096 x 2 bytes =
  // 58,720,256 B. The busiest GPU receives more: 7/8 of its 8320.85 copies of 8192 B, 59,643,851 B
  // over 0.8 x 450 GB/s, plus 1 us NVSwitch latency: 166.68 us.
  auto s = roofline_quickstart();
  s.network.model = NetworkModelKind::Analytic;
  const auto report = simulate(s);
  const double received = kBusiestCopies * 7 / 8 * 8192;
  EXPECT_NEAR(report.layers[0].phases.dispatch, received / (0.8 * 450e9) + 1e-6, 1e-12);
  EXPECT_NEAR(report.imbalance, kBusiestCopies / 8192, 1e-7);
  EXPECT_DOUBLE_EQ(report.dropped_tokens, 0);
}

TEST(Simulate, FlowModelAgreesOnOneNvswitchNode) {
  // Played as 56 flows over the HGX graph: the busiest GPU's NVLink port takes 7 flows of 1/8 of
  // its 8320.85 copies (8,520,550 B each) at 0.8 x 450 GB/s, the same 165.68 us, plus the route's
  // 1 us; finish times round up to whole nanoseconds, so the two models agree within 2 ns.
  auto s = roofline_quickstart();
  s.network.model = NetworkModelKind::Flow;
  const auto report = simulate(s);
  EXPECT_EQ(report.network_model, "flow");
  EXPECT_NEAR(report.layers[0].phases.dispatch,
              kBusiestCopies * 7 / 8 * 8192 / (0.8 * 450e9) + 1e-6, 2e-9);
}

TEST(Simulate, CapacityFactorDropsTheSkewedExcess) {
  auto s = roofline_quickstart();
  s.workload.routing = {PopularityKind::Zipf, 1.5, 3};
  s.policy.capacity_factor = 1.0;
  const auto report = simulate(s);
  EXPECT_GT(report.dropped_tokens, 0);
  // Dropped copies never exceed what was routed, and what remains never exceeds capacity x experts.
  EXPECT_LT(report.dropped_tokens, report.routed_tokens);
  for (const auto& layer : report.layers) {
    double kept = 0;
    for (double tokens : layer.tokens_per_expert) kept += tokens;
    EXPECT_LE(kept, 1.0 * 4096 * 8 * 2 + 1e-6);
  }
}

TEST(Simulate, TokensAreConservedThroughDrops) {
  // Every routed copy is either processed by an expert or dropped: per step, sum over layers of
  // the kept tokens_per_expert plus the dropped copies equals the routed copies,
  // 32 layers x 4096 tokens x 8 GPUs x top-2 = 2,097,152.
  auto s = roofline_quickstart();
  s.workload.routing = {PopularityKind::Zipf, 1.2, 5};
  s.policy.capacity_factor = 1.1;
  const auto report = simulate(s);
  double kept = 0;
  for (const auto& layer : report.layers)
    for (double tokens : layer.tokens_per_expert) kept += tokens;
  EXPECT_DOUBLE_EQ(report.routed_tokens, 32.0 * 4096 * 8 * 2);
  EXPECT_NEAR(kept + report.dropped_tokens, report.routed_tokens, 1e-6);
  EXPECT_GT(report.dropped_tokens, 0);
}

TEST(Simulate, SkewSlowsTheStep) {
  auto skewed = roofline_quickstart();
  skewed.workload.routing = {PopularityKind::Zipf, 1.2, 1};
  EXPECT_GT(simulate(skewed).step_time_s, simulate(roofline_quickstart()).step_time_s);
}

TEST(Simulate, TwoMicroBatchOverlapHidesCommunication) {
  auto serial = load_scenario("dsv3-prefill-h200x256");
  serial.parallelism.overlap = Overlap::None;
  const auto overlapped = load_scenario("dsv3-prefill-h200x256");
  EXPECT_LT(simulate(overlapped).step_time_s, simulate(serial).step_time_s);
}

TEST(Simulate, EveryBuiltinRunsDeterministically) {
  for (const auto& builtin : builtin_scenarios()) {
    SCOPED_TRACE(std::string(builtin.name));
    const auto scenario = parse_scenario(builtin.json, std::string(builtin.name));
    const auto first = report_to_json(simulate(scenario)).dump();
    EXPECT_EQ(first, report_to_json(simulate(scenario)).dump());
  }
}

TEST(Simulate, CostPerMillionTokensFromPrice) {
  // $2.99/GPU-hour x 8 GPUs = $23.92/hour; cost per million = 23.92 / 3600 / tokens_per_s x 1e6.
  const auto report = simulate(roofline_quickstart());
  ASSERT_TRUE(report.cost_per_million_tokens().has_value());
  EXPECT_NEAR(*report.cost_per_million_tokens(), 23.92 / 3600 / report.tokens_per_s() * 1e6, 1e-12);
}

}  // namespace
}  // namespace moesim::sim

namespace moesim::sim {
namespace {

TEST(SimulateOverrides, MovingAnExpertOntoABusyGpuDoublesItsGemmTime) {
  // Quickstart holds one Mixtral expert per GPU, 8192 tokens each. Moving expert 1 onto GPU 0
  // gives GPU 0 two experts, 16384 tokens: the experts phase doubles to 2 x 4.864 ms.
  auto s = load_scenario("quickstart");
  s.profile.source = "roofline";
  auto placements = scenario_placements(s, expert_loads(s));
  for (auto& p : placements) {
    p.slots[1].clear();
    p.slots[0].push_back(1);
    p.replicas[1] = {0};
  }
  const auto report = simulate(s, {}, SimulationOverrides{{}, placements, {}});
  EXPECT_NEAR(report.layers[0].phases.experts, 2 * 2.0 * 176160768.0 * 8192 / (0.6 * 989e12),
              1e-12);
  EXPECT_DOUBLE_EQ(report.imbalance, 2.0);  // GPU 0 carries 2/8 of the tokens: 2x the mean
}

TEST(SimulateOverrides, PopularityFromATraceReplacesTheGenerator) {
  // All copies to experts 0 and 1 (top-2): each expert takes every one of the 32768 tokens.
  const auto s = load_scenario("quickstart");
  std::vector<std::vector<double>> popularity(32, std::vector<double>(8, 0.0));
  for (auto& layer : popularity) layer[0] = layer[1] = 1.0;
  const auto loads = expert_loads(s, SimulationOverrides{popularity, {}, {}});
  EXPECT_DOUBLE_EQ(loads[0][0], 4096.0 * 8);
  EXPECT_DOUBLE_EQ(loads[0][2], 0.0);
}

TEST(SimulateOverrides, MismatchedOverridesAreRejected) {
  const auto s = load_scenario("quickstart");
  EXPECT_THROW(simulate(s, {}, SimulationOverrides{{{1.0, 2.0}}, {}, {}}), ConfigError);
}

}  // namespace
}  // namespace moesim::sim

namespace moesim::sim {
namespace {

TEST(SimulateProfile, QuickstartUsesTheMeasuredH100Profile) {
  // quickstart runs on H100s with profile "auto", and the built-in h100 profile measured Mixtral.
  const auto report = simulate(load_scenario("quickstart"));
  EXPECT_EQ(report.profile_source, "measured");
  // Measured curves, not the roofline: the experts phase differs from 2 x 176M x 8192 / (0.6 x
  // 989T).
  EXPECT_GT(std::fabs(report.layers[0].phases.experts - 2.0 * 176160768.0 * 8192 / (0.6 * 989e12)),
            1e-5);
}

TEST(SimulateProfile, MeasuredExpertTimeInterpolatesTheProfileCurve) {
  // One expert per GPU, the busiest with 8320.85 copies: the experts phase is the h100 profile's
  // per-expert time at those rows on the faster back end, read straight off its curve.
  const auto s = load_scenario("quickstart");
  const auto profile = load_profile("h100");
  const auto* curves = profile.model("mixtral-8x7b");
  ASSERT_NE(curves, nullptr);
  const double expected = profile.experts_us(*curves, {kBusiestCopies}) * 1e-6;
  EXPECT_NEAR(simulate(s).layers[0].phases.experts, expected, 1e-7 * expected);
}

TEST(SimulateProfile, NamedProfileWithoutTheModelIsAnError) {
  auto s = load_scenario("quickstart");
  s.model = *find_model("dbrx");
  s.profile.source = "h100";
  EXPECT_THROW(simulate(s), ConfigError);
}

}  // namespace
}  // namespace moesim::sim
