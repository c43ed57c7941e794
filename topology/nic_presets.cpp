#include "topology/nic_presets.hpp"

namespace moesim::topology {

std::span<const NicSpec> nic_presets() {
  static const NicSpec kNics[] = {
      {"cx7-400g", "NVIDIA ConnectX-7, 400 Gb/s InfiniBand NDR / Ethernet",
       gigabits_per_second(400), 2e-6, "NVIDIA ConnectX-7 datasheet"},
      {"cx8-800g", "NVIDIA ConnectX-8 SuperNIC, 800 Gb/s InfiniBand XDR / Ethernet",
       gigabits_per_second(800), 2e-6, "NVIDIA ConnectX-8 SuperNIC datasheet"},
  };
  return kNics;
}

const NicSpec* find_nic(std::string_view name) {
  for (const auto& nic : nic_presets())
    if (nic.name == name) return &nic;
  return nullptr;
}

}  // namespace moesim::topology
