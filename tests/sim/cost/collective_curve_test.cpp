// The profile's measured NCCL all-to-all curve prices the scale-up hop by message size.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "base/config_error.hpp"
#include "sim/cost/measured_profile.hpp"
#include "sim/run/simulate.hpp"
#include "sim/spec/builtin_scenarios.hpp"

namespace moesim::sim {
namespace {

// The shipped H100 profile with an all-to-all curve added, written where a scenario can name it.
std::string profile_with_curve(const nlohmann::json& all_to_all, const std::string& name) {
  std::ifstream in(std::string(MOESIM_SOURCE_DIR) + "/scenarios/profiles/h100.json");
  nlohmann::json profile = nlohmann::json::parse(in);
  profile["collectives"]["all_to_all"] = all_to_all;
  const auto path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream(path) << profile.dump();
  return path;
}

// 8 ranks: 100 GB/s bus bandwidth at 1 MiB per rank, 300 GB/s at 64 MiB.
const nlohmann::json kEightRanks =
    nlohmann::json::array({{{"ranks", 8}, {"bytes", 1 << 20}, {"busbw_bytes_per_s", 100e9}},
                           {{"ranks", 8}, {"bytes", 1 << 26}, {"busbw_bytes_per_s", 300e9}}});

ScenarioSpec quickstart_with(const std::string& profile, NetworkModelKind network) {
  auto s = load_scenario("quickstart");
  s.profile.source = profile;
  s.network.model = network;
  return s;
}

TEST(CollectiveCurve, DispatchUsesTheMeasuredBusBandwidthAtItsSize) {
  // quickstart: each H100 sends 4096 tokens x top-2 x 4096 hidden x 2 bytes = 64 MiB in all, so
  // busbw = 300 GB/s (the last point). The busiest GPU of a batch receives 7/8 of 8192 +
  // sqrt(8192) x 1.4236 = 8320.85 copies (Poisson copies, the largest of 8 GPUs;
  // docs/capacity-policy.md), 59,643,851 B across the port: 198.81 us, plus the profile's
  // count-copy overhead. No NVSwitch latency: the curve measured it.
  const auto path = profile_with_curve(kEightRanks, "moesim_curve_test.json");
  const auto report = simulate(quickstart_with(path, NetworkModelKind::Analytic));
  const double overhead = load_profile(path).collective_overhead_us() * 1e-6;
  const double received = (8192 + std::sqrt(8192.0) * 1.4236003) * 7 / 8 * 8192;
  EXPECT_NEAR(report.layers[0].phases.dispatch, received / 300e9 + overhead, 1e-12);
  EXPECT_NE(report.collective_costs.find("8 ranks"), std::string::npos);
}

TEST(CollectiveCurve, FlowModelAgreesWithTheCurve) {
  // The flow model runs NVLink links at busbw / line rate = 300 / 450 of capacity: the same
  // 195.73 us, plus the NVSwitch path latency and the overhead (within 2 us).
  const auto path = profile_with_curve(kEightRanks, "moesim_curve_flow_test.json");
  const auto analytic = simulate(quickstart_with(path, NetworkModelKind::Analytic));
  const auto flow = simulate(quickstart_with(path, NetworkModelKind::Flow));
  EXPECT_NEAR(flow.layers[0].phases.dispatch, analytic.layers[0].phases.dispatch, 2e-6);
}

TEST(CollectiveCurve, BelowTheSmallestSizeTheFixedCostRemains) {
  // Smallest measured size 128 MiB at 50 GB/s: it took 128 MiB x 7/8 / 50 GB/s = 2.684 ms, and a
  // 64 MiB collective cannot be cheaper than that measured floor.
  const auto path = profile_with_curve(
      nlohmann::json::array({{{"ranks", 8}, {"bytes", 1 << 27}, {"busbw_bytes_per_s", 50e9}},
                             {{"ranks", 8}, {"bytes", 1 << 28}, {"busbw_bytes_per_s", 60e9}}}),
      "moesim_curve_floor_test.json");
  const auto report = simulate(quickstart_with(path, NetworkModelKind::Analytic));
  const double overhead = load_profile(path).collective_overhead_us() * 1e-6;
  EXPECT_NEAR(report.layers[0].phases.dispatch, 134217728.0 * 7 / 8 / 50e9 + overhead, 1e-12);
}

TEST(CollectiveCurve, WithoutACurveTheLineRateApplies) {
  const auto report = simulate(quickstart_with("h100", NetworkModelKind::Analytic));
  EXPECT_EQ(report.collective_costs, "line rate x network_efficiency");
}

TEST(CollectiveCurve, MalformedEntriesNameTheirPath) {
  const auto path = profile_with_curve(
      nlohmann::json::array({{{"ranks", 1}, {"bytes", 1024}, {"busbw_bytes_per_s", 1e9}},
                             {{"ranks", 8}, {"bytes", -5}, {"busbw_bytes_per_s", 1e9}}}),
      "moesim_curve_bad_test.json");
  try {
    load_profile(path);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(
        message.find("/collectives/all_to_all/0/ranks: expected an integer in [2, 1000000], got 1"),
        std::string::npos)
        << message;
    EXPECT_NE(
        message.find(
            "/collectives/all_to_all/1/bytes: expected a number in (0, 1000000000000], got -5"),
        std::string::npos)
        << message;
  }
}

}  // namespace
}  // namespace moesim::sim
