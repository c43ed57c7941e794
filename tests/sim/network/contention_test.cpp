// Where the flow model must differ from the analytic one: contention that the analytic model's
// per-GPU port and NIC-share figures cannot see. Each expected number is derived by hand from the
// fabric's shape (docs/topology.md) and max-min sharing (docs/network-model.md).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "sim/network/network_model.hpp"
#include "topology/cluster_builders.hpp"
#include "topology/topology_json.hpp"

namespace moesim::sim {
namespace {

ScenarioSpec scenario_with_cluster(const std::string& cluster, int expert_parallel) {
  const std::string text = R"({"schema_version": 1, "model": "deepseek-v3", "cluster": )" +
                           cluster + R"(, "parallelism": {"expert_parallel": )" +
                           std::to_string(expert_parallel) + R"(},
      "profile": {"source": "roofline", "network_efficiency": 1},
      "workload": {"kind": "prefill", "tokens_per_gpu": 1024, "context_tokens": 1024}})";
  return parse_scenario(text, "contention.json");
}

// `bytes` between every ordered pair of distinct ranks.
ByteMatrix uniform_matrix(int ranks, double bytes) {
  ByteMatrix matrix(static_cast<std::size_t>(ranks),
                    std::vector<Bytes>(static_cast<std::size_t>(ranks), bytes));
  for (int r = 0; r < ranks; ++r)
    matrix[static_cast<std::size_t>(r)][static_cast<std::size_t>(r)] = 0;
  return matrix;
}

constexpr double kNic = 50e9;  // ConnectX-7, 400 Gb/s

// The most utilised link over the collective (bytes / (capacity x time)) and its name.
std::pair<double, std::string> busiest_link(const NetworkModel& network,
                                            const CollectiveTiming& timing) {
  const auto links = network.costed_links();
  std::pair<double, std::string> busiest{0.0, ""};
  for (std::size_t link = 0; link < links.size(); ++link) {
    const double use = timing.link_bytes[link] / (links[link].capacity * timing.time);
    if (use > busiest.first + 1e-9) busiest = {use, links[link].name};
  }
  return busiest;
}

TEST(Contention, OversubscribedFatTreeSlowsCrossRailTrafficLessThanTheAnalyticModelSays) {
  // 4 HGX H200 nodes, one leaf per rail (8 leaves of 4 downlinks). At 2:1 a leaf has
  // ceil(4 / 2) = 2 spines, each uplink 4 x 50 / 2 / 2 = 50 GB/s: 100 GB/s up per leaf.
  const NetworkModel network(
      scenario_with_cluster(R"({"preset": "h200x32", "oversubscription": 2})", 32), 0.0);
  const double b = 1e8;  // bytes per pair
  const CollectiveTiming timing = network.all_to_all(uniform_matrix(32, b));
  // Leaf i's uplinks carry the cross-rail, cross-node flows of its 4 GPUs: 4 x (3 nodes x 7 other
  // rails) = 84 flows in 100 GB/s, 1.19 GB/s each. A NIC holds 24 flows (21 of them those at
  // 1.19 GB/s, using 25 GB/s); its 3 same-rail flows share the other 25 GB/s and finish first.
  // The last flows end at 84 b / 100 GB/s = 84 ms, plus a few microseconds of route latency.
  const double flow_expected = 84 * b / (2 * kNic);
  EXPECT_NEAR(timing.time, flow_expected, flow_expected * 1e-3 + 10e-6);
  // The analytic model divides every GPU's NIC by the oversubscription: 24 b / 25 GB/s = 96 ms.
  // Flow is faster by 1 - 84 / 96 = 12.5%: same-rail traffic never climbs to the spines.
  const double analytic = 24 * b / (kNic / 2);
  EXPECT_NEAR(timing.time / analytic, 0.875, 0.875 * 0.02);
  // The busiest link is a leaf uplink: 84 b x 1/2 each (ECMP over 2 spines) in 84 ms = 50 GB/s,
  // full; a NIC moves 24 b in 84 ms = 28.6 GB/s, 57% of 50 GB/s.
  const auto [busiest, busiest_name] = busiest_link(network, timing);
  EXPECT_NEAR(busiest, 1.0, 0.01);
  EXPECT_NE(busiest_name.find("leaf"), std::string::npos) << busiest_name;
  EXPECT_NE(busiest_name.find("spine"), std::string::npos) << busiest_name;
}

TEST(Contention, TwoEpGroupsSharingOversubscribedSpinesSlowEachOther) {
  // 8 HGX H100 nodes, EP 32: two groups of 4 nodes, both played at once (64 GPUs). One leaf per
  // rail with 8 downlinks; at 2:1, ceil(8 / 2) = 4 spines, uplinks 8 x 50 / 2 / 4 = 50 GB/s:
  // 200 GB/s up per leaf, shared by both groups.
  const NetworkModel network(
      scenario_with_cluster(R"({"preset": "h100x64", "oversubscription": 2})", 32), 0.0);
  ASSERT_EQ(network.played_groups(), 2);
  const double b = 1e8;
  const CollectiveTiming timing = network.all_to_all(uniform_matrix(32, b));
  // Alone, a group's leaf uplinks would carry its 4 GPUs x 21 cross-rail flows = 84 in 200 GB/s,
  // 2.38 GB/s each, above the NIC's 50 / 24 = 2.08: the NIC would bind, 24 b / 50 GB/s = 48 ms.
  // Together the uplinks carry 8 x 21 = 168 flows, 1.19 GB/s each, below the NIC's share: the
  // spines bind, 168 b / 200 GB/s = 84 ms, 1.75 x the group alone.
  const double together = 168 * b / (4 * kNic);
  EXPECT_NEAR(timing.time, together, together * 1e-3 + 10e-6);
  EXPECT_NEAR(timing.time / (24 * b / kNic), 1.75, 1.75 * 0.02);
}

// The 4-node H200 fabric as a topology file with NIC 0 of node 0 sending at half speed (its
// receiving direction keeps the full rate).
std::string topology_with_half_speed_nic() {
  auto topology_json =
      topology::topology_to_json(topology::build_cluster(topology::cluster_params("hgx-h200", 4)));
  for (auto& link : topology_json["links"])
    if (link["from"] == "n0.nic0" && link["to"] == "p0.g0.leaf0") {
      auto back = link;
      std::swap(back["from"], back["to"]);
      link["duplex"] = back["duplex"] = false;
      link["bandwidth_gb_per_s"] = 25.0;
      topology_json["links"].push_back(back);
      break;
    }
  const auto path = std::filesystem::temp_directory_path() / "moesim_half_speed_nic.json";
  std::ofstream(path) << topology_json.dump();
  return path.string();
}

TEST(Contention, OneNicAtHalfSpeedGatesTheCollectiveWhereTheAnalyticModelSeesNone) {
  const std::string file = topology_with_half_speed_nic();
  const NetworkModel network(
      scenario_with_cluster(R"({"preset": "h200x32", "topology": ")" + file + R"("})", 32), 0.0);
  const double b = 1e8;
  const CollectiveTiming timing = network.all_to_all(uniform_matrix(32, b));
  // GPU 0 sends 24 b across the fabric (3 other nodes x 8 GPUs) through its NIC, now 25 GB/s:
  // 24 b / 25 GB/s = 96 ms. Every other NIC moves its 24 b at 50 GB/s in 48 ms, and on the
  // non-blocking 1:1 fabric nothing else binds, so GPU 0 gates the collective at 96 ms.
  const double expected = 24 * b / (kNic / 2);
  EXPECT_NEAR(timing.time, expected, expected * 1e-3 + 10e-6);
  // The analytic model prices the cluster's figures, where every NIC has 50 GB/s: 48 ms, half.
  EXPECT_NEAR(timing.time / (24 * b / kNic), 2.0, 2.0 * 0.02);
  // GPU 0 ends at 96 ms, and so does every GPU of another node: each receives one of GPU 0's
  // slow flows. GPU 1 shares GPU 0's node, gets its bytes over NVLink, and moves its own 24 b
  // both ways at 50 GB/s: 48 ms.
  EXPECT_NEAR(timing.gpu_time[0], expected, expected * 1e-3 + 10e-6);
  EXPECT_NEAR(timing.gpu_time[9], expected, expected * 1e-3 + 10e-6);
  EXPECT_NEAR(timing.gpu_time[1], expected / 2, expected / 2 * 0.02 + 10e-6);
  // The slow NIC's uplink is the busiest link: 24 b in 96 ms at 25 GB/s, full.
  const auto [busiest, busiest_name] = busiest_link(network, timing);
  EXPECT_NEAR(busiest, 1.0, 0.01);
  EXPECT_EQ(busiest_name, "n0.nic0 -> p0.g0.leaf0");
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace moesim::sim
