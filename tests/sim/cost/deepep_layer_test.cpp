// A MoE layer's dispatch and combine under DeepEP's kernels, priced by hand.
#include <gtest/gtest.h>

#include <string>

#include "sim/cost/layer_cost_model.hpp"
#include "sim/network/deepep_cost.hpp"

namespace moesim::sim {
namespace {

// Two HGX H100 nodes (NVLink 450 GB/s, one 50 GB/s CX7 per GPU), EP 16, one expert a GPU, top-1,
// hidden 1024, 1000 tokens a GPU routed evenly: each GPU sends 62.5 copies to every GPU, 500 of
// its 1000 to the other node and 437.5 to the 7 other GPUs of its own.
// `overlap` is the parallelism section's (none unless given).
LayerCost deepep_layer(const std::string& kernels, const std::string& overlap = "none") {
  ScenarioSpec s = parse_scenario(
      R"({"schema_version": 1, "model": "deepseek-v3", "cluster": {"preset": "h100x64",
          "nodes": 2}, "parallelism": {"expert_parallel": 16, "micro_batches": 2,
          "overlap": ")" +
          overlap + R"("}, "network": {"all_to_all": ")" + kernels + R"("}})",
      "deepep.json");
  ModelSpec& m = s.model;
  m.experts = 16;
  m.top_k = 1;
  m.hidden = 1024;
  m.expert_groups = 1;
  m.topk_groups = 1;
  m.dispatch_bytes = 1;
  m.combine_bytes = 2;
  Placement placement;
  placement.gpus = 16;
  for (int g = 0; g < 16; ++g) {
    placement.slots.push_back({g});
    placement.replicas.push_back({g});
  }
  return LayerCostModel(s, nullptr).moe_layer(placement, std::vector<double>(16, 1000.0), 1000);
}

TEST(DeepEpLayer, LowLatencyKernelsSendEveryCopyOverRdmaWithNoCountExchange) {
  const LayerCost layer = deepep_layer("deepep-low-latency");
  // Dispatch copy: 1024 + 1024 / 128 x 4 + 16 = 1072 bytes. RDMA: 500 x 1072 = 536,000 bytes at
  // 50e9 x 0.88 = 44e9 B/s = 12.1818 us; NVLink: 437.5 x 1072 = 469,000 bytes at 450e9 x 0.67 =
  // 301.5e9 B/s = 1.556 us, hidden under the RDMA. 30 us floor + 12.1818 us.
  EXPECT_NEAR(layer.phases.dispatch, 30e-6 + 536000 / 44e9, 1e-12);
  EXPECT_DOUBLE_EQ(layer.phases.count_exchange, 0);
  // Combine copy: 2 x 1024 = 2048 bytes; 500 x 2048 = 1,024,000 bytes at 44e9 = 23.2727 us.
  EXPECT_NEAR(layer.phases.combine, 30e-6 + 1024000 / 44e9, 1e-12);
}

TEST(DeepEpLayer, NormalKernelsForwardOverNvlinkAfterOneRdmaLegPerNode) {
  const LayerCost layer = deepep_layer("deepep-normal");
  // Dispatch copy: 1024 + 32 = 1056 bytes. RDMA: the 500 tokens for the other node cross once,
  // 528,000 bytes at 44e9 = 12 us. NVLink: 437.5 copies for its own node's GPUs plus, as relay,
  // 500 - 62.5 = 437.5 forwarded from its rail peer: 875 x 1056 = 924,000 bytes at 301.5e9 =
  // 3.065 us, hidden. 30 us floor + 12 us, and the notify's 30 us before it.
  EXPECT_NEAR(layer.phases.count_exchange, 30e-6, 1e-15);
  EXPECT_NEAR(layer.phases.dispatch, 30e-6 + 30e-6 + 528000 / 44e9, 1e-12);
  // Combine: 500 x 2048 = 1,024,000 bytes back over RDMA: 30 + 23.2727 us.
  EXPECT_NEAR(layer.phases.combine, 30e-6 + 1024000 / 44e9, 1e-12);
}

TEST(DeepEpLayer, NormalKernelsBesideComputeTakeDeepSeeksMeasuredSlowdown) {
  // Under two micro-batches (and comm-compute) the normal kernels run beside compute: each
  // transfer, floor included, x (11.6 + 19.3) / (7.2 + 14.3) = 1.44 (DeepSeek's profile over
  // DeepEP's unit tests). The notify is a separate count exchange and keeps its 30 us.
  const LayerCost alone = deepep_layer("deepep-normal");
  for (const char* overlap : {"two-micro-batch", "comm-compute"}) {
    const LayerCost beside = deepep_layer("deepep-normal", overlap);
    EXPECT_NEAR(beside.phases.combine, 1.44 * alone.phases.combine, 1e-15) << overlap;
    EXPECT_NEAR(beside.phases.dispatch - beside.phases.count_exchange,
                1.44 * (alone.phases.dispatch - alone.phases.count_exchange), 1e-15)
        << overlap;
  }
  // Low-latency kernels hold no SMs while compute runs: unchanged.
  EXPECT_DOUBLE_EQ(deepep_layer("deepep-low-latency", "two-micro-batch").phases.combine,
                   deepep_layer("deepep-low-latency").phases.combine);
}

TEST(DeepEpLayer, OneRankLaunchesNoKernelAndPaysNoFloor) {
  ScenarioSpec s = parse_scenario(
      R"({"schema_version": 1, "model": "mixtral-8x7b", "cluster": "h100x8",
          "parallelism": {"expert_parallel": 1},
          "network": {"all_to_all": "deepep-low-latency"}})",
      "ep1.json");
  Placement placement;
  placement.gpus = 1;
  placement.slots = {{0, 1, 2, 3, 4, 5, 6, 7}};
  for (int e = 0; e < 8; ++e) placement.replicas.push_back({0});
  // Every copy stays on the one GPU: no dispatch, no combine, not even the 30 us floor.
  const LayerCost layer =
      LayerCostModel(s, nullptr).moe_layer(placement, std::vector<double>(8, 250.0), 1000);
  EXPECT_DOUBLE_EQ(layer.phases.dispatch, 0);
  EXPECT_DOUBLE_EQ(layer.phases.combine, 0);
}

}  // namespace
}  // namespace moesim::sim
