// The flow network under MoE TP (issue 22): each EP rank plays on the GPU the rank order gives it
// (they stride by the MoE TP size), and the MoE TP all-gather and reduce-scatter rings load the
// links they ride.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <string>

#include "sim/network/network_model.hpp"
#include "sim/run/simulate.hpp"
#include "sim/spec/parallel_groups.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {
namespace {

// Mixtral-8x7B prefill on 64 H100s (8 nodes of 8), MoE TP 8 x EP 2, uniform routing.
ScenarioSpec moe_tp8_ep2(const std::string& network) {
  return parse_scenario(R"({"schema_version": 1, "model": "mixtral-8x7b", "cluster": "h100x64",
      "parallelism": {"expert_parallel": 2, "moe_tensor_parallel": 8},
      "workload": {"kind": "prefill", "tokens_per_gpu": 1024, "context_tokens": 1024,
                   "routing": {"generator": "uniform"}},
      "network": {"model": ")" +
                            network + R"("}, "profile": "roofline"})",
                        "moe-tp.json");
}

TEST(MoeTpFlow, EpRanksStrideOverTheShardsAcrossNodes) {
  const ScenarioSpec s = moe_tp8_ep2("flow");
  // A MoE TP group fills a node (GPUs 0-7); the EP group holding GPU 0 pairs it with GPU 8.
  const auto groups = expert_groups(s);
  ASSERT_EQ(groups.size(), 32u);
  EXPECT_EQ(groups[0], (std::vector<int>{0, 8}));
  EXPECT_EQ(groups[1], (std::vector<int>{1, 9}));
  EXPECT_EQ(groups[8], (std::vector<int>{16, 24}));
  EXPECT_EQ(moe_tensor_groups(s)[0], (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  // A transfer from EP rank 0 to rank 1 leaves the node: every byte crosses the fabric.
  const NetworkModel network(s, 0.0);
  const CollectiveTiming timing = network.all_to_all({{0.0, 1e6}, {0.0, 0.0}});
  EXPECT_DOUBLE_EQ(timing.scale_out_bytes, 1e6);
  EXPECT_DOUBLE_EQ(timing.scale_up_bytes, 0);
}

TEST(MoeTpFlow, TheRingsAndTheAllToAllLandOnTheLinksTheyRide) {
  // Per EP group and micro-batch. All-to-all: each of the 2 ranks routes 1,024 tokens x top-2 to
  // 8 experts, 4 on each rank: 1,024 copies cross to the other rank, over the NICs, at 4096 x 2
  // bytes, dispatch and combine: 2 x 1,024 x 8,192 x 2 = 33,554,432 bytes scale-out.
  // (A busier rank keeps more of its own copies and the other fewer: 1,024 still cross.)
  // MoE TP: each rank expects 2 x 1,024 = 2,048 copies a shard, 8 x 2,048 = 16,384 for its group
  // of 8 shards, Poisson in a batch (sd 128, 16 a shard); the rings run at the busier of the 2
  // ranks: 2,048 + 16 / sqrt(pi) = 2,057.03 rows. Its ring of 8 shards inside the node passes on
  // 7/8 of the all-gather's output (8 x 2,057.03 rows x 8,192 bytes) and of the reduce-scatter's
  // input (the same): 2 x 7 x 2,057.03 x 8,192 bytes per GPU, 2 GPUs: 471,832,633 bytes scale-up
  // (docs/capacity-policy.md, "Batch-to-batch load variation").
  const double busier = 2048 + std::sqrt(16384.0) / 8 / std::sqrt(std::numbers::pi);
  for (const std::string network : {"flow", "analytic"}) {
    const Report r = simulate(moe_tp8_ep2(network));
    const LayerResult& layer = r.layers.front();
    EXPECT_NEAR(layer.scale_out_bytes, 33554432.0, 1) << network;
    EXPECT_NEAR(layer.scale_up_bytes, 2 * 2 * 7 * busier * 8192, 1) << network;
  }
  // The flow model puts the rings on the NVLinks: 234,881,024 bytes a GPU a direction against
  // 450 GB/s load them more than the 16,777,216 bytes each way on a 50 GB/s NIC.
  const Report flow = simulate(moe_tp8_ep2("flow"));
  ASSERT_FALSE(flow.busiest_links.empty());
  EXPECT_EQ(flow.busiest_links.front().kind, "nvlink") << flow.busiest_links.front().name;
}

}  // namespace
}  // namespace moesim::sim
