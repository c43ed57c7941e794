#pragma once
// The scale-up domain of real systems: how many GPUs share NVLink/NVSwitch (or PCIe) and at what
// bandwidth. The full graph builders (topology/cluster_graph.*) start from these figures.
#include <span>
#include <string>
#include <string_view>

#include "base/units.hpp"

namespace moesim::topology {

enum class ScaleUpKind { NvSwitch, Pcie, InfinityFabric };

struct NodeSystem {
  std::string name;
  std::string description;
  int gpus_per_node = 8;
  int gpus_per_scale_up_domain = 8;  // 72 for GB200 NVL72
  ScaleUpKind scale_up_kind = ScaleUpKind::NvSwitch;
  BytesPerSecond scale_up_bandwidth = 0;  // per GPU, per direction
  Seconds scale_up_latency = 0;
  std::string default_device;
  std::string default_nic;
  int nics_per_node = 8;
  std::string source;
};

std::span<const NodeSystem> node_systems();
const NodeSystem* find_node_system(std::string_view name);
std::string_view scale_up_kind_name(ScaleUpKind kind);

}  // namespace moesim::topology
