#include "topology/node_system.hpp"

namespace moesim::topology {

std::span<const NodeSystem> node_systems() {
  static const NodeSystem kSystems[] = {
      {"hgx-h100", "HGX/DGX H100: 8 GPUs on NVLink 4 through NVSwitch, 8x ConnectX-7", 8, 8,
       ScaleUpKind::NvSwitch, 450e9, 1e-6, "h100-sxm", "cx7-400g", 8,
       "NVIDIA DGX H100 user guide; H100 datasheet (NVLink 900 GB/s bidirectional)"},
      {"hgx-h800", "HGX H800: 8 GPUs on NVLink 4 through NVSwitch (8 links), 8x ConnectX-7", 8, 8,
       ScaleUpKind::NvSwitch, 200e9, 1e-6, "h800", "cx7-400g", 8,
       "DeepSeek-V3 report (arXiv:2412.19437) section 3.2.1: NVLink 160 GB/s achieved of 400 GB/s "
       "bidirectional; 8x 400 Gb/s InfiniBand a node"},
      {"hgx-h20", "HGX H20: 8 GPUs on NVLink 4 through NVSwitch, 8x ConnectX-7", 8, 8,
       ScaleUpKind::NvSwitch, 450e9, 1e-6, "h20", "cx7-400g", 8,
       "LMSYS and Ant Group's H20 post (2025-09-26): NVLink 900 GB/s bidirectional, as the H100's"},
      {"hgx-h200", "HGX H200: 8 GPUs on NVLink 4 through NVSwitch, 8x ConnectX-7", 8, 8,
       ScaleUpKind::NvSwitch, 450e9, 1e-6, "h200", "cx7-400g", 8,
       "NVIDIA H200 datasheet (NVLink 900 GB/s bidirectional)"},
      {"hgx-b200", "HGX B200: 8 GPUs on NVLink 5 through NVSwitch, 8x ConnectX-7", 8, 8,
       ScaleUpKind::NvSwitch, 900e9, 1e-6, "b200", "cx7-400g", 8,
       "NVIDIA HGX B200 datasheet (NVLink 1.8 TB/s bidirectional per GPU)"},
      {"gb200-nvl72", "GB200 NVL72: 72 GPUs in one NVLink 5 domain (18 trays of 4 GPUs)", 4, 72,
       ScaleUpKind::NvSwitch, 900e9, 1e-6, "gb200", "cx8-800g", 4,
       "NVIDIA GB200 NVL72 datasheet (130 TB/s NVLink over 72 GPUs)"},
      {"pcie-h100", "8x H100 PCIe on PCIe Gen5 x16 through switches, no NVLink", 8, 8,
       ScaleUpKind::Pcie, 64e9, 2e-6, "h100-sxm", "cx7-400g", 4,
       "PCI-SIG PCIe 5.0: 32 GT/s x16 = 64 GB/s per direction (before protocol overhead)"},
      {"mi300x-platform", "AMD Instinct MI300X platform: 8 GPUs fully connected by Infinity Fabric",
       8, 8, ScaleUpKind::InfinityFabric, 448e9, 1e-6, "mi300x", "cx7-400g", 8,
       "AMD MI300X datasheet: 7 links x 64 GB/s per direction"},
  };
  return kSystems;
}

const NodeSystem* find_node_system(std::string_view name) {
  for (const auto& system : node_systems())
    if (system.name == name) return &system;
  return nullptr;
}

std::string_view scale_up_kind_name(ScaleUpKind kind) {
  switch (kind) {
    case ScaleUpKind::NvSwitch:
      return "nvlink";
    case ScaleUpKind::Pcie:
      return "pcie";
    case ScaleUpKind::InfinityFabric:
      return "infinity-fabric";
  }
  return "unknown";
}

}  // namespace moesim::topology
