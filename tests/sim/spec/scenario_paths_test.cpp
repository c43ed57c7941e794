// Files a scenario names resolve against the scenario file's directory, not the working
// directory; a built-in scenario's topology is built in (sim/spec/scenario_paths.hpp).
#include "sim/spec/scenario_paths.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/config_error.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {
namespace {

namespace fs = std::filesystem;

TEST(ScenarioPaths, RelativePathsResolveAgainstTheScenarioFilesDirectory) {
  EXPECT_EQ(resolve_scenario_path("runs/a/scenario.json", "topo.json"), "runs/a/topo.json");
  EXPECT_EQ(resolve_scenario_path("runs/a/scenario.json", "../shared/topo.json"),
            "runs/shared/topo.json");
  // Absolute and empty paths, and scenarios given as text with no directory, keep them.
  EXPECT_EQ(resolve_scenario_path("runs/a/scenario.json", "/data/topo.json"), "/data/topo.json");
  EXPECT_EQ(resolve_scenario_path("runs/a/scenario.json", ""), "");
  EXPECT_EQ(resolve_scenario_path("scenario.json", "topo.json"), "topo.json");
  EXPECT_EQ(resolve_scenario_path("<dict>", "topo.json"), "topo.json");
}

TEST(ScenarioPaths, ABuiltinScenarioNamesBuiltinTopologiesOnly) {
  EXPECT_EQ(resolve_scenario_path("quickstart", "topologies/x.json", true),
            "builtin:topologies/x.json");
  EXPECT_EQ(resolve_scenario_path("quickstart", "placements/x.json"), "placements/x.json");
}

TEST(ScenarioPaths, ATopologyBesideTheScenarioLoadsFromAnyWorkingDirectory) {
  const fs::path root = fs::temp_directory_path() / "moesim_scenario_paths_test";
  fs::remove_all(root);
  fs::create_directories(root / "cluster");
  // Two GPUs on one NVSwitch: the smallest topology a 2-GPU cluster accepts.
  std::ofstream(root / "cluster" / "two.json") << R"({"schema_version": 1, "name": "two",
    "vertices": [{"id": "g0", "kind": "gpu", "node": 0, "domain": 0},
                 {"id": "g1", "kind": "gpu", "node": 0, "domain": 0},
                 {"id": "sw", "kind": "nvswitch", "node": 0, "domain": 0}],
    "links": [{"from": "g0", "to": "sw", "kind": "nvlink", "bandwidth_gb_per_s": 450, "duplex": true},
              {"from": "g1", "to": "sw", "kind": "nvlink", "bandwidth_gb_per_s": 450, "duplex": true}]})";
  std::ofstream(root / "cluster" / "scenario.json") << R"({"schema_version": 1,
    "model": "mixtral-8x7b",
    "cluster": {"system": "hgx-h100", "nodes": 1, "gpus_per_node": 2, "topology": "two.json"},
    "parallelism": {"expert_parallel": 2}})";
  const fs::path before = fs::current_path();
  fs::current_path(fs::temp_directory_path());  // neither the scenario's folder nor the repo's
  const ScenarioSpec scenario = load_scenario((root / "cluster" / "scenario.json").string());
  fs::current_path(before);
  EXPECT_EQ(scenario.cluster.topology_file, (root / "cluster" / "two.json").string());
  EXPECT_EQ(load_scenario_topology(scenario.cluster.topology_file).gpus().size(), 2u);
  fs::remove_all(root);
}

TEST(ScenarioPaths, TheDegradedNicBuiltinCarriesItsTopology) {
  const ScenarioSpec scenario = load_scenario("dsv3-prefill-h200x32-degraded-nic");
  EXPECT_EQ(scenario.cluster.topology_file, "builtin:topologies/h200x32-half-speed-nic.json");
  const auto graph = load_scenario_topology(scenario.cluster.topology_file);
  EXPECT_EQ(graph.gpus().size(), 32u);
  // The one degraded direction: node 0's NIC 0 towards its leaf at 25 GB/s, the way back at 50.
  int half = 0, full_back = 0;
  for (std::size_t id = 0; id < graph.link_count(); ++id) {
    const auto link = static_cast<topology::LinkId>(id);
    const std::string from = graph.vertex(graph.link_source(link)).name;
    const std::string to = graph.vertex(graph.link_target(link)).name;
    if (graph.link(link).bandwidth == 25e9) ++half;
    if (from == "p0.g0.leaf0" && to == "n0.nic0" && graph.link(link).bandwidth == 50e9) ++full_back;
  }
  EXPECT_EQ(half, 1);
  EXPECT_EQ(full_back, 1);
}

TEST(ScenarioPaths, AnUnknownBuiltinTopologyIsAConfigError) {
  EXPECT_THROW(load_scenario_topology("builtin:topologies/none.json"), ConfigError);
}

}  // namespace
}  // namespace moesim::sim
