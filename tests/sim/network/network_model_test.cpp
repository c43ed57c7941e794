#include "sim/network/network_model.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/config_error.hpp"
#include "topology/topology_json.hpp"

namespace moesim::sim {
namespace {

// A scenario on a cluster preset with the given EP size; everything else as quickstart.
ScenarioSpec scenario_on(const std::string& cluster, const std::string& model,
                         int expert_parallel) {
  const std::string text = R"({"schema_version": 1, "model": ")" + model + R"(", "cluster": ")" +
                           cluster + R"(", "parallelism": {"expert_parallel": )" +
                           std::to_string(expert_parallel) + R"(},
      "workload": {"kind": "prefill", "tokens_per_gpu": 1024, "context_tokens": 1024}})";
  return parse_scenario(text, cluster + ".json");
}

// An ep x ep matrix with `bytes` from rank `from` to rank `to` and nothing else.
ByteMatrix one_transfer(int ep, int from, int to, double bytes) {
  ByteMatrix matrix(static_cast<std::size_t>(ep),
                    std::vector<Bytes>(static_cast<std::size_t>(ep), 0.0));
  matrix[static_cast<std::size_t>(from)][static_cast<std::size_t>(to)] = bytes;
  return matrix;
}

constexpr double kNvlink = 450e9;  // HGX H100: NVLink 4, 450 GB/s per GPU per direction

TEST(NetworkModel, CostedLinksListEveryGraphLinkWithItsKindAndRate) {
  const ScenarioSpec s = scenario_on("h100x8", "mixtral-8x7b", 8);
  const NetworkModel network(s, 0.0);
  const auto links = network.costed_links();
  ASSERT_EQ(links.size(), network.graph().link_count());
  // One HGX node, duplex links: host-4 PCIe switches (8), 8 GPUs and 8 NICs on the switches (32),
  // 8 GPUs to the NVSwitch (16) = 56; "none" adds no fabric.
  EXPECT_EQ(links.size(), 56u);
  const auto nvlinks = std::count_if(links.begin(), links.end(),
                                     [](const CostedLink& link) { return link.kind == "nvlink"; });
  EXPECT_EQ(nvlinks, 16);
  for (const auto& link : links) {
    EXPECT_NE(link.name.find(" -> "), std::string::npos) << link.name;
    if (link.kind == "nvlink") {
      EXPECT_DOUBLE_EQ(link.capacity, kNvlink) << link.name;
    }
  }
}

TEST(NetworkModel, SmallClustersPlayEveryGroupLargeOnesTheFirst) {
  // 8 GPUs in EP groups of 4: 2 groups, all played (8 <= 64 GPUs).
  EXPECT_EQ(NetworkModel(scenario_on("h100x8", "mixtral-8x7b", 4), 0.0).played_groups(), 2);
  EXPECT_EQ(NetworkModel(scenario_on("h100x8", "mixtral-8x7b", 8), 0.0).played_groups(), 1);
  // 64 GPUs in groups of 8: exactly at the limit, all 8 played.
  EXPECT_EQ(NetworkModel(scenario_on("h100x64", "mixtral-8x7b", 8), 0.0).played_groups(), 8);
}

TEST(NetworkModel, OneNvlinkTransferTakesLatencyPlusBytesOverTheEfficientRate) {
  const ScenarioSpec s = scenario_on("h100x8", "mixtral-8x7b", 8);
  ASSERT_DOUBLE_EQ(s.profile.network_efficiency, 0.8);  // the scenario default
  const NetworkModel network(s, 5e-6);
  // 0.8 x 450 GB/s = 360 GB/s; 360 MB take 1 ms. Before that: the 5 us fixed cost and the route's
  // latency, two half hops (GPU -> NVSwitch -> GPU) of 1 us / 2 = 1 us.
  const CollectiveTiming timing = network.all_to_all(one_transfer(8, 0, 1, 360e6));
  EXPECT_NEAR(timing.time, 5e-6 + 1e-6 + 1e-3, 2e-9);
  ASSERT_EQ(timing.gpu_time.size(), 8u);
  EXPECT_NEAR(timing.gpu_time[0], timing.time, 2e-9);
  EXPECT_NEAR(timing.gpu_time[1], timing.time, 2e-9);
  // A GPU with nothing to send or receive is done once the fixed cost is paid.
  EXPECT_NEAR(timing.gpu_time[5], 5e-6, 1e-9);
  EXPECT_DOUBLE_EQ(timing.scale_out_bytes, 0.0);
}

TEST(NetworkModel, ScaleUpEfficiencyOverridesTheProfileOnNvlink) {
  const NetworkModel network(scenario_on("h100x8", "mixtral-8x7b", 8), 0.0);
  // At efficiency 0.5: 225 GB/s, so 225 MB take 1 ms, plus the 1 us route latency.
  const CollectiveTiming timing = network.all_to_all(one_transfer(8, 2, 3, 225e6), {}, 0.5);
  EXPECT_NEAR(timing.time, 1e-6 + 1e-3, 2e-9);
}

TEST(NetworkModel, ScaleUpEfficiencyLeavesThePcieToTheNicsAlone) {
  // h100x64, EP 16: rank 0 to rank 8 goes GPU -> PCIe switch -> NIC -> fabric -> NIC -> PCIe ->
  // GPU. The measured NVLink curve's efficiency (0.5) is not the PCIe's: PCIe Gen5 keeps
  // 0.8 x 64 GB/s = 51.2 GB/s and the NIC (0.8 x 50 GB/s = 40 GB/s) is the bottleneck, 40 MB in
  // 1 ms plus the route's few microseconds. (At 0.5 x 64 = 32 GB/s it took 1.25 ms.)
  const NetworkModel network(scenario_on("h100x64", "deepseek-v3", 16), 0.0);
  const CollectiveTiming timing = network.all_to_all(one_transfer(16, 0, 8, 40e6), {}, 0.5);
  EXPECT_GT(timing.time, 1e-3);
  EXPECT_LT(timing.time, 1e-3 + 20e-6);
}

TEST(NetworkModel, ScenarioLinkEfficiencyPricesItsKind) {
  ScenarioSpec s = scenario_on("h100x8", "mixtral-8x7b", 8);
  s.cluster.scale_up_link.efficiency = 0.5;
  const NetworkModel network(s, 0.0);
  // 0.5 x 450 GB/s = 225 GB/s: 225 MB in 1 ms, plus the 1 us route latency.
  EXPECT_NEAR(network.all_to_all(one_transfer(8, 2, 3, 225e6)).time, 1e-6 + 1e-3, 2e-9);
}

// The h100x8 node written as a topology file, every NVLink link at `nvlink_gb_per_s`.
std::string h100x8_topology_file(double nvlink_gb_per_s, const std::string& name) {
  const NetworkModel built(scenario_on("h100x8", "mixtral-8x7b", 8), 0.0);
  nlohmann::json file = topology::topology_to_json(built.graph());
  for (auto& link : file["links"])
    if (link["kind"] == "nvlink") link["bandwidth_gb_per_s"] = nvlink_gb_per_s;
  const auto path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream(path) << file.dump();
  return path;
}

TEST(NetworkModel, ATopologyFileReplacesTheBuiltGraph) {
  ScenarioSpec s = scenario_on("h100x8", "mixtral-8x7b", 8);
  s.cluster.topology_file = h100x8_topology_file(225, "moesim_network_topology_test.json");
  const NetworkModel network(s, 0.0);
  // The file's NVLink runs at 225 GB/s: 0.8 x 225 = 180 GB/s, 180 MB in 1 ms, plus the same
  // 1 us route latency as the built node.
  EXPECT_NEAR(network.all_to_all(one_transfer(8, 0, 1, 180e6)).time, 1e-6 + 1e-3, 2e-9);
}

TEST(NetworkModel, TwoSendersIntoOneGpuShareItsPort) {
  const NetworkModel network(scenario_on("h100x8", "mixtral-8x7b", 8), 0.0);
  ByteMatrix matrix = one_transfer(8, 0, 2, 180e6);
  matrix[1][2] = 180e6;
  // GPU 2's inbound NVLink (360 GB/s effective) carries both: 360 MB in 1 ms, plus 1 us latency.
  const CollectiveTiming timing = network.all_to_all(matrix);
  EXPECT_NEAR(timing.time, 1e-6 + 1e-3, 2e-9);
}

TEST(NetworkModel, TrafficBetweenNodesIsCountedOnceAsScaleOut) {
  // h100x64: 8 nodes on a fat-tree. With EP 16, ranks 0 and 8 sit on different nodes.
  const NetworkModel network(scenario_on("h100x64", "deepseek-v3", 16), 0.0);
  const CollectiveTiming timing = network.all_to_all(one_transfer(16, 0, 8, 1e6));
  // The byte crosses several fabric links but leaves a NIC once, per EP group.
  EXPECT_NEAR(timing.scale_out_bytes, 1e6, 1e-3);
  EXPECT_GT(timing.time, 0.0);
}

// Through the NVSwitch a byte rides two links (GPU -> switch -> GPU) but is one byte sent, as the
// analytic model (LayerCostModel::moe_layer) and xGMI's direct links count it. (It was counted on
// both links, which doubled the report's NVLink rate.)
TEST(NetworkModel, ScaleUpBytesCountEachByteOnceThroughTheSwitch) {
  const NetworkModel network(scenario_on("h100x8", "mixtral-8x7b", 8), 0.0);
  const CollectiveTiming timing = network.all_to_all(one_transfer(8, 0, 1, 1e6));
  EXPECT_NEAR(timing.scale_up_bytes, 1e6, 1e-3);
}

// A PCIe-only node's GPU-to-GPU bytes are its scale-up traffic, as the analytic model counts them
// (they were left out, so such a node reported none under the flow model).
TEST(NetworkModel, ScaleUpBytesIncludeGpuToGpuTrafficOnAPcieOnlyNode) {
  const NetworkModel network(scenario_on("pcie-h100x8", "mixtral-8x7b", 8), 0.0);
  const CollectiveTiming timing = network.all_to_all(one_transfer(8, 0, 1, 1e6));
  EXPECT_NEAR(timing.scale_up_bytes, 1e6, 1e-3);
}

TEST(NetworkModel, ScaleUpBytesOnDirectLinksCountEachByteOnce) {
  // MI300X: every GPU pair has its own xGMI link, so a byte crosses one scale-up link.
  const NetworkModel network(scenario_on("mi300x8", "mixtral-8x7b", 8), 0.0);
  const CollectiveTiming timing = network.all_to_all(one_transfer(8, 0, 1, 1e6));
  EXPECT_NEAR(timing.scale_up_bytes, 1e6, 1e-3);
}

TEST(NetworkModel, EveryPlayedGroupReplaysTheMatrixAndBytesAreReportedPerGroup) {
  // EP 4 on 8 GPUs: groups {0..3} and {4..7} both send 1 MB from their rank 0 to their rank 1,
  // on disjoint xGMI links; the timing is per group, so the bytes are 1 MB, not 2.
  const NetworkModel network(scenario_on("mi300x8", "mixtral-8x7b", 4), 0.0);
  ASSERT_EQ(network.played_groups(), 2);
  const CollectiveTiming timing = network.all_to_all(one_transfer(4, 0, 1, 1e6));
  ASSERT_EQ(timing.gpu_time.size(), 4u);
  EXPECT_NEAR(timing.scale_up_bytes, 1e6, 1e-3);
  // Graph link bytes are not divided: each group's link carries its own megabyte.
  double on_links = 0;
  for (double bytes : timing.link_bytes) on_links += bytes;
  EXPECT_NEAR(on_links, 2e6, 1e-3);
}

TEST(NetworkModel, ClusterItCannotBuildIsAConfigError) {
  ScenarioSpec s = scenario_on("h100x8", "mixtral-8x7b", 8);
  s.cluster.nodes = 2;  // two HGX nodes with fabric "none": 16 GPUs, one NVLink domain holds 8
  try {
    NetworkModel network(s, 0.0);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    ASSERT_EQ(error.problems().size(), 1u);
    EXPECT_EQ(error.problems()[0].where, "/cluster/fabric");
  }
}

}  // namespace
}  // namespace moesim::sim
