// Incast to a hot GPU under skew, on a 2:1 oversubscribed fat-tree: the case where the flow
// model and the analytic one part (docs/network-model.md, "Where flow and analytic differ").
// Skewed routing (Zipf) sends the most-popular expert's GPU several times what the others get;
// here its share is exaggerated to 4x so the phases can be derived by hand.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "sim/network/network_model.hpp"

namespace moesim::sim {
namespace {

constexpr double kIncastNic = 50e9;  // ConnectX-7, 400 Gb/s

TEST(Incast, HotGpuOnOversubscribedSpinesIsGatedByItsOwnNicNotByTheSpines) {
  const std::string text = R"({"schema_version": 1, "model": "deepseek-v3",
      "cluster": {"preset": "h200x32", "oversubscription": 2},
      "parallelism": {"expert_parallel": 32},
      "profile": {"source": "roofline", "network_efficiency": 1},
      "workload": {"kind": "prefill", "tokens_per_gpu": 1024, "context_tokens": 1024}})";
  const NetworkModel network(parse_scenario(text, "incast.json"), 0.0);
  const double b = 1e8, u = b / 1e9;  // u: seconds to move b at 1 GB/s
  ByteMatrix bytes(32, std::vector<Bytes>(32, b));
  for (std::size_t r = 0; r < 32; ++r) {
    bytes[r][r] = 0;
    if (r > 0) bytes[r][0] = 4 * b;  // GPU 0 holds the hot expert
  }
  const CollectiveTiming timing = network.all_to_all(bytes);
  // 4 H200 nodes, one leaf per rail with 4 downlinks, 2 spines a leaf at 2:1: 100 GB/s up and
  // 100 GB/s down per leaf. A leaf's uplinks carry its 4 GPUs' cross-rail, cross-node flows,
  // 4 x 21 = 84, and leaf 0's downlinks the 84 coming into rail 0: every such flow moves at
  // 100 / 84 GB/s. Flows to one GPU over its NIC are one class (bytes and rate alone alike), so
  // GPU 0's 3 same-rail senders move with its 21 cross-rail ones. Phase 1: every NIC flow at
  // 100 / 84 (GPU 0's NIC takes 24 x 1.19 = 28.6 of its 50 GB/s); the b flows end at 0.84 u,
  // when the hot ones have 3 b left. Phase 2: only the 24 hot flows, the spines idle, GPU 0's
  // NIC shared 24 ways: 3 b / (50 / 24 GB/s) = 1.44 u. GPU 0 ends at 0.84 + 1.44 = 2.28 u.
  // (Pair by pair the 3 same-rail flows, which never climb to a spine, would take NIC 0's other
  // 25 GB/s in phase 1 and end early; GPU 0 would end at 0.84 + 3 x 21 / 50 = 2.10 u, 8% sooner:
  // the class approximation docs/network-model.md describes.)
  const double flow_expected = 2.28 * u;
  EXPECT_NEAR(timing.time, flow_expected, flow_expected * 0.01 + 10e-6);
  EXPECT_NEAR(timing.gpu_time[0], flow_expected, flow_expected * 0.01 + 10e-6);
  // GPU 1 shares GPU 0's node and sends it its 4 b over NVLink; its NIC flows are all of b and
  // end with phase 1, 0.84 u. GPU 9 (node 1) sends its 4 b to GPU 0 across the spines, in GPU 0's
  // class: 2.28 u.
  EXPECT_NEAR(timing.gpu_time[1], 0.84 * u, 0.84 * u * 0.01 + 10e-6);
  EXPECT_NEAR(timing.gpu_time[9], flow_expected, flow_expected * 0.01 + 10e-6);
  // The analytic model divides every NIC by the oversubscription and charges GPU 0 its 24 x 4 b
  // over 25 GB/s: 3.84 u. Flow is 1 - 2.28 / 3.84 = 41% faster: once the uniform traffic is done
  // the spines are idle and the incast runs at the NIC's full rate.
  const double analytic = 24 * 4 * b / (kIncastNic / 2);
  EXPECT_NEAR(analytic, 3.84 * u, 1e-12);
  EXPECT_NEAR(timing.time / analytic, 2.28 / 3.84, 2.28 / 3.84 * 0.02);
  // The bottleneck is GPU 0's NIC, inbound: 96 b in 2.28 u at 50 GB/s = 84%; a spine-to-leaf-0
  // link carries half of leaf 0's 21 x 4 b + 63 b = 147 b, 73.5 b / (2.28 u x 50) = 64%.
  const auto links = network.costed_links();
  std::pair<double, std::string> busiest{0.0, ""};
  for (std::size_t link = 0; link < links.size(); ++link) {
    const double use = timing.link_bytes[link] / (links[link].capacity * timing.time);
    if (use > busiest.first + 1e-9) busiest = {use, links[link].name};
  }
  EXPECT_EQ(busiest.second, "p0.g0.leaf0 -> n0.nic0");
  EXPECT_NEAR(busiest.first, 96 / (2.28 * 50), 0.01);
}

}  // namespace
}  // namespace moesim::sim
