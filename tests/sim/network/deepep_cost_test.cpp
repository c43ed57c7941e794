#include "sim/network/deepep_cost.hpp"

#include <gtest/gtest.h>

namespace moesim::sim {
namespace {

TEST(DeepEpCost, CopyBytesCarryScalesAndTheLowLatencyHeader) {
  // DeepSeek-V3, hidden 7168: FP8 payload 7168 + one 4-byte scale per 128 elements (56 x 4 = 224)
  // = 7392; the low-latency dispatch adds 16 bytes = 7408; BF16 is 2 x 7168 = 14336 with neither.
  EXPECT_DOUBLE_EQ(deepep_copy_bytes(AllToAllKind::DeepEpNormal, 7168, 1, true), 7392);
  EXPECT_DOUBLE_EQ(deepep_copy_bytes(AllToAllKind::DeepEpLowLatency, 7168, 1, true), 7408);
  EXPECT_DOUBLE_EQ(deepep_copy_bytes(AllToAllKind::DeepEpLowLatency, 7168, 2, false), 14336);
  EXPECT_DOUBLE_EQ(deepep_copy_bytes(AllToAllKind::DeepEpNormal, 7168, 2, false), 14336);
}

TEST(DeepEpCost, FloorPlusTheSlowerHop) {
  // An H800: NVLink 200 GB/s x 0.67 = 134 GB/s; a CX7 50 GB/s x 0.88 = 44 GB/s.
  const DeepEpRates rates{.nvlink = 200e9, .nic = 50e9};
  // 6.7 MB over NVLink is 50 us, 8.8 MB over RDMA 200 us: they overlap, so 30 + 200 us.
  EXPECT_NEAR(deepep_transfer_time(rates, 6.7e6, 8.8e6), 230e-6, 1e-12);
  // 26.8 MB over NVLink alone is 200 us: 30 + 200 us.
  EXPECT_NEAR(deepep_transfer_time(rates, 26.8e6, 0), 230e-6, 1e-12);
  // Nothing to move still pays the floor.
  EXPECT_DOUBLE_EQ(deepep_transfer_time(rates, 0, 0), 30e-6);
}

TEST(DeepEpCost, OnlyNormalKernelsExchangeCounts) {
  EXPECT_DOUBLE_EQ(deepep_notify_time(AllToAllKind::DeepEpNormal), 30e-6);
  EXPECT_DOUBLE_EQ(deepep_notify_time(AllToAllKind::DeepEpLowLatency), 0);
}

TEST(DeepEpCost, RatesFromTheScenarioAndItsOverrides) {
  const ScenarioSpec s = parse_scenario(
      R"({"schema_version": 1, "model": "deepseek-v3", "cluster": {"preset": "h100x64",
          "nodes": 2, "links": {"nvlink": {"bandwidth": 200e9}, "ib": {"efficiency": 0.5}}},
          "parallelism": {"expert_parallel": 16}, "network": {"all_to_all": "deepep-normal"}})",
      "h800.json");
  const DeepEpRates rates = deepep_rates(s);
  EXPECT_DOUBLE_EQ(rates.nvlink, 200e9);
  // 8 CX7 at 400 Gb/s = 50e9 B/s each, over 8 GPUs.
  EXPECT_DOUBLE_EQ(rates.nic, 50e9);
  EXPECT_DOUBLE_EQ(rates.nvlink_efficiency, kDeepEpNvlinkEfficiency);
  EXPECT_DOUBLE_EQ(rates.nic_efficiency, 0.5);  // the scenario's own figure wins
  // The normal kernels imply hierarchical, deduplicated dispatch, priced analytically.
  EXPECT_EQ(s.network.dispatch, DispatchKind::Hierarchical);
  EXPECT_TRUE(s.network.dedup);
  EXPECT_EQ(s.network.model, NetworkModelKind::Analytic);
}

}  // namespace
}  // namespace moesim::sim
