// TP, DP and pipeline collectives priced from measured curves or the stated defaults (issue 22).
#include "sim/cost/group_collectives.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "sim/cost/measured_profile.hpp"
#include "sim/run/inputs.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {
namespace {

ScenarioSpec tp8_on_h200() {
  return parse_scenario(R"({"schema_version": 1, "model": "mixtral-8x7b", "cluster": "h200x8",
      "parallelism": {"expert_parallel": 8, "attention_tensor_parallel": 8},
      "workload": {"kind": "prefill", "tokens_per_gpu": 4096}, "profile": "h200"})",
                        "tp8.json");
}

TEST(GroupCollectives, BusFactorsFollowNcclTests) {
  // all-reduce 2 (n-1)/n: 2 x 7 / 8 = 1.75; all-gather and reduce-scatter (n-1)/n: 7/8.
  EXPECT_DOUBLE_EQ(bus_factor(CollectiveKind::AllReduce, 8), 1.75);
  EXPECT_DOUBLE_EQ(bus_factor(CollectiveKind::AllGather, 8), 0.875);
  EXPECT_DOUBLE_EQ(bus_factor(CollectiveKind::ReduceScatter, 2), 0.5);
  EXPECT_DOUBLE_EQ(bus_factor(CollectiveKind::SendRecv, 2), 1.0);
}

TEST(GroupCollectives, Tp8AllReduceOnOneNodeComesFromTheMeasuredCurve) {
  const ScenarioSpec s = tp8_on_h200();
  const RunInputs inputs = resolve_inputs(s, {});
  ASSERT_TRUE(inputs.profile.has_value());
  const GroupCollectives collectives(s, &*inputs.profile);
  const GroupLayout tp = group_layout(s, GroupKind::AttentionTensor);
  ASSERT_EQ(tp.size, 8);
  ASSERT_EQ(tp.domains, 1);  // TP inside the node
  // The h200 profile measured all_reduce on 2 ranks. Equal bus bytes: on 8 ranks each link
  // carries 1.75 x the vector, on 2 ranks 1 x; so 8-rank bytes B cost what 2-rank 1.75 B cost.
  // B = 16 MiB / 1.75 lands on the measured 16 MiB point exactly.
  const auto& curves = inputs.profile->collectives().all_reduce;
  const auto two = std::find_if(curves.begin(), curves.end(),
                                [](const CollectiveTimes& c) { return c.ranks == 2; });
  ASSERT_NE(two, curves.end());
  const auto point = std::find_if(two->points.begin(), two->points.end(),
                                  [](const TimePoint& p) { return p.bytes == 16 << 20; });
  ASSERT_NE(point, two->points.end());
  const CollectivePrice price = collectives.price(CollectiveKind::AllReduce, (16 << 20) / 1.75, tp);
  EXPECT_NEAR(price.seconds, point->us * 1e-6, 1e-12);
  EXPECT_NE(price.source.find("measured NCCL all_reduce on 2 ranks"), std::string::npos)
      << price.source;
  EXPECT_NE(price.source.find("busbw-scaled to 8"), std::string::npos) << price.source;
}

// The price on the H200 node without a profile: no curve, the stated defaults.
CollectivePrice default_price_on_h200(CollectiveKind kind, double bytes, GroupLayout group) {
  ScenarioSpec s = tp8_on_h200();
  s.profile.source = "roofline";
  return GroupCollectives(s, nullptr).price(kind, bytes, group);
}

TEST(GroupCollectives, WithoutACurveTheDefaultRingIsNamed) {
  // Ring all-reduce of 100 MB on 8 GPUs of an HGX H200 node: 1.75 x 100e6 bytes over NVLink at
  // 450 GB/s x 0.8 efficiency = 486.1 us, plus 2 x 7 steps x 1 us hop latency = 500.1 us.
  const CollectivePrice price = default_price_on_h200(CollectiveKind::AllReduce, 100e6, {8, 1});
  EXPECT_NEAR(price.seconds, 1.75 * 100e6 / 360e9 + 14e-6, 1e-12);
  EXPECT_NE(price.source.find("default: ring"), std::string::npos) << price.source;
}

TEST(GroupCollectives, ASmallDefaultCollectiveTakesTheMeasuredFloor) {
  // All-gather of 1 KiB on 2 GPUs of one node: 0.5 x 1024 bytes at 360 GB/s = 1.4 ns, and one
  // 1 us hop, which the 10 us floor (NCCL's 1 KiB all_gather on 2 H200s: 10.5 us) replaces.
  const CollectivePrice two = default_price_on_h200(CollectiveKind::AllGather, 1024, {2, 1});
  EXPECT_NEAR(two.seconds, 0.5 * 1024 / 360e9 + 10e-6, 1e-15);
  EXPECT_NE(two.source.find("10 us floor"), std::string::npos) << two.source;
  // Past 10 hops the ring's latency is the larger: all-reduce on 8 GPUs, 14 hops = 14 us.
  const CollectivePrice eight = default_price_on_h200(CollectiveKind::AllReduce, 1024, {8, 1});
  EXPECT_NEAR(eight.seconds, 1.75 * 1024 / 360e9 + 14e-6, 1e-15);
}

TEST(GroupCollectives, AcrossNodesTheFabricLegIsHierarchical) {
  ScenarioSpec s = parse_scenario(R"({"schema_version": 1, "model": "mixtral-8x7b",
      "cluster": "h100x64", "workload": {"kind": "training", "tokens_per_gpu": 4096},
      "profile": "roofline"})",
                                  "dp.json");
  const GroupCollectives collectives(s, nullptr);
  // Reduce-scatter of 800 MB over 16 GPUs in 2 nodes (8 each). Inside: 7/8 x 800e6 over
  // 450 GB/s x 0.8 = 1944.4 us. Across: each node's 1/8 share, (2-1)/2 of it, over one 400 Gb/s
  // NIC per GPU at 0.8: 0.5 x 100e6 / 40e9 = 1250 us. The slower leg, 1944.4 us, plus latency
  // (1 x NIC latency + 7 x 1 us).
  const CollectivePrice price = collectives.price(CollectiveKind::ReduceScatter, 800e6, {16, 2});
  const double latency = s.cluster.nic.latency + 7e-6;
  EXPECT_NEAR(price.seconds, 0.875 * 800e6 / 360e9 + latency, 1e-12);
  EXPECT_NE(price.source.find("hierarchical over 2 domains"), std::string::npos) << price.source;
}

}  // namespace
}  // namespace moesim::sim
