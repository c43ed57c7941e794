#include <gtest/gtest.h>

#include <fstream>

#include "tests/cli/cli_runner.hpp"

namespace moesim::testing {
namespace {

TEST(TopologyCommand, ShowsEveryBuiltInCluster) {
  for (const char* cluster : {"h100x8", "h100x64", "h200x8", "h200x32", "h200x256", "h200x2048",
                              "b200x64", "gb200x72", "mi300x8", "pcie-h100x8"}) {
    const auto result = run_moesim(std::string("topology show ") + cluster, "topology-show");
    EXPECT_EQ(result.exit_code, 0) << cluster << ": " << result.err;
    EXPECT_NE(result.out.find("bisection"), std::string::npos) << cluster;
  }
}

TEST(TopologyCommand, H200x32SummaryHasItsCountsAndRoutes) {
  const auto result = run_moesim("topology show h200x32", "topology-h200x32");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // 4 nodes x 8 GPUs; 4 x 22 in-node vertices + 8 leaves + 4 spines = 100.
  EXPECT_NE(result.out.find("32 in 4 scale-up domain(s)"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("vertices      100"), std::string::npos) << result.out;
  // GPU 0 -> GPU 9 crosses rails: 8 hops over the 4 spines.
  EXPECT_NE(result.out.find("8 hops, 4 path(s)"), std::string::npos) << result.out;
}

TEST(TopologyCommand, NodeSystemWithNodesAndDotOutput) {
  const auto result = run_moesim("topology show hgx-h100 --nodes 2 --dot", "topology-dot");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out.rfind("digraph", 0), 0u);
  EXPECT_NE(result.out.find("n1.gpu7"), std::string::npos);
}

TEST(TopologyCommand, JsonExportReadsBackFromAFile) {
  const auto dir = scratch_dir("topology-json");
  const auto exported = run_moesim("topology show h200x8 --json", "topology-json-export");
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const auto file = dir / "h200x8.json";
  std::ofstream(file) << exported.out;
  const auto result = run_moesim("topology show " + file.string(), "topology-json-read");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("8 in 1 scale-up domain(s)"), std::string::npos) << result.out;
}

TEST(TopologyCommand, MalformedFileIsInvalidInputWithItsPath) {
  const auto dir = scratch_dir("topology-bad");
  const auto file = dir / "bad.json";
  std::ofstream(file) << R"({"schema_version": 1,
    "vertices": [{"id": "g0", "kind": "gpu", "node": 0}],
    "links": [{"from": "g0", "to": "ghost", "kind": "nvlink", "bandwidth_gb_per_s": 450}]})";
  const auto result = run_moesim("topology show " + file.string(), "topology-bad-run");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("/links/0/to: link end names no vertex: \"ghost\""), std::string::npos)
      << result.err;
}

TEST(TopologyCommand, UnknownNameSuggestsAPreset) {
  const auto result = run_moesim("topology show h200x33", "topology-unknown");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("did you mean \"h200x32\""), std::string::npos) << result.err;
  EXPECT_EQ(run_moesim("topology", "topology-usage").exit_code, 2);
}

}  // namespace
}  // namespace moesim::testing
