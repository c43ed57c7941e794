#include "sim/spec/cluster_presets.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "sim/spec/device_presets.hpp"
#include "topology/node_system.hpp"

namespace moesim::sim {
namespace {

TEST(ClusterPresets, NamesAreUnique) {
  std::set<std::string> names;
  for (const auto& cluster : cluster_presets())
    EXPECT_TRUE(names.insert(cluster.name).second) << cluster.name;
  EXPECT_FALSE(names.empty());
}

TEST(ClusterPresets, EverySystemIsAKnownNodeSystem) {
  for (const auto& cluster : cluster_presets())
    EXPECT_NE(topology::find_node_system(cluster.system), nullptr)
        << cluster.name << ": " << cluster.system;
}

TEST(ClusterPresets, NameCountsTheGpusItBuilds) {
  // "<part>x<gpus>": the count after the last 'x' is nodes x the system's GPUs per node.
  for (const auto& cluster : cluster_presets()) {
    SCOPED_TRACE(cluster.name);
    const auto* system = topology::find_node_system(cluster.system);
    ASSERT_NE(system, nullptr);
    const int named_gpus = std::stoi(cluster.name.substr(cluster.name.rfind('x') + 1));
    EXPECT_EQ(cluster.nodes * system->gpus_per_node, named_gpus);
  }
}

TEST(ClusterPresets, FabricIsOneOfTheKnownKindsAndOversubscriptionIsAtLeastOne) {
  for (const auto& cluster : cluster_presets()) {
    SCOPED_TRACE(cluster.name);
    EXPECT_NE(choice_name(cluster.fabric),
              "?");  // a name in the table, so `list clusters` prints it
    EXPECT_GE(cluster.oversubscription, 1.0);
    EXPECT_FALSE(cluster.description.empty());
  }
}

TEST(ClusterPresets, SeveralNodesNeedAFabricUnlessOneScaleUpDomainHoldsThemAll) {
  for (const auto& cluster : cluster_presets()) {
    SCOPED_TRACE(cluster.name);
    const auto* system = topology::find_node_system(cluster.system);
    ASSERT_NE(system, nullptr);
    const int gpus = cluster.nodes * system->gpus_per_node;
    // GB200 NVL72: 18 trays x 4 GPUs = 72 = one NVLink domain, so no scale-out fabric is needed.
    if (gpus > system->gpus_per_scale_up_domain) {
      EXPECT_NE(cluster.fabric, FabricKind::None);
    }
  }
}

TEST(ClusterPresets, DefaultDeviceOfEverySystemIsADevicePreset) {
  for (const auto& cluster : cluster_presets()) {
    const auto* system = topology::find_node_system(cluster.system);
    ASSERT_NE(system, nullptr) << cluster.name;
    EXPECT_NE(find_device(system->default_device), nullptr)
        << cluster.name << ": " << system->default_device;
  }
}

TEST(ClusterPresets, FindReturnsThePresetOfThatName) {
  const ClusterPreset* cluster = find_cluster_preset("h100x64");
  ASSERT_NE(cluster, nullptr);
  // 64 GPUs / 8 per HGX node = 8 nodes on a fat-tree.
  EXPECT_EQ(cluster->nodes, 8);
  EXPECT_EQ(cluster->system, "hgx-h100");
  EXPECT_EQ(cluster->fabric, FabricKind::InfinibandFatTree);
  for (const auto& preset : cluster_presets()) EXPECT_EQ(find_cluster_preset(preset.name), &preset);
}

TEST(ClusterPresets, FindReturnsNullForAnUnknownName) {
  EXPECT_EQ(find_cluster_preset("h100x63"), nullptr);
  EXPECT_EQ(find_cluster_preset(""), nullptr);
  EXPECT_EQ(find_cluster_preset("H100X8"), nullptr);  // names are case-sensitive
}

}  // namespace
}  // namespace moesim::sim
