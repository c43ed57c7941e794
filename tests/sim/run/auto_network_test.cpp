// network.model "auto" plays the flow model at every scale (docs/network-model.md, "How the
// simulator uses it"); only DeepEP's kernels, which have their own analytic price, are not played.
#include <gtest/gtest.h>

#include <string>

#include "sim/run/simulate.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {
namespace {

// DeepSeek-V3 prefill on 32 H200 nodes, EP 256 as the built-in dsv3-prefill-h200x256, cut to one
// MoE layer so the test plays two collectives of 65,280 GPU pairs.
ScenarioSpec deepseek_ep256(const std::string& network) {
  return parse_scenario(
      R"({"schema_version": 1,
          "model": {"preset": "deepseek-v3", "layers": 2, "moe_layers": 1, "weight_bytes": 1,
                    "dispatch_bytes": 1, "combine_bytes": 2},
          "cluster": "h200x256", "parallelism": {"expert_parallel": 256},
          "workload": {"kind": "prefill", "tokens_per_gpu": 4096, "context_tokens": 4096},
          "profile": "roofline", "network": )" +
          network + "}",
      "auto.json");
}

TEST(AutoNetwork, PlaysFlowsAtEp256) {
  const ScenarioSpec s = deepseek_ep256(R"({"model": "auto"})");
  ASSERT_EQ(s.network.model, NetworkModelKind::Auto);
  const Report report = simulate(s);
  EXPECT_EQ(report.network_model, "flow");
  EXPECT_EQ(report.ep_groups_played, 1);  // 256 GPUs: one EP group of 256 played
  // Flow-only figures: the busiest links are graph links ("a -> b"), not analytic ports.
  ASSERT_FALSE(report.busiest_links.empty());
  EXPECT_NE(report.busiest_links.front().name.find(" -> "), std::string::npos);
}

TEST(AutoNetwork, PlaysHierarchicalDispatchAsFlows) {
  const Report report =
      simulate(deepseek_ep256(R"({"model": "auto", "dispatch": "hierarchical", "dedup": true})"));
  EXPECT_EQ(report.network_model, "flow");
  EXPECT_EQ(report.dispatch, "hierarchical");
}

TEST(AutoNetwork, AnalyticOnlyWhenAskedOrForDeepEp) {
  EXPECT_EQ(simulate(deepseek_ep256(R"({"model": "analytic"})")).network_model, "analytic");
  // DeepEP's normal kernels are priced by their own model (deepep_cost.hpp) under auto.
  const ScenarioSpec deepep = deepseek_ep256(R"({"model": "auto", "all_to_all": "deepep-normal"})");
  EXPECT_EQ(deepep.network.model, NetworkModelKind::Analytic);
  EXPECT_EQ(simulate(deepep).network_model, "analytic");
}

}  // namespace
}  // namespace moesim::sim
