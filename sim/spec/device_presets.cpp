#include "sim/spec/device_presets.hpp"

namespace moesim::sim {

std::span<const DeviceSpec> device_presets() {
  // Datasheets quote "with sparsity" figures in large type; these are the dense halves.
  static const DeviceSpec kDevices[] = {
      {"h100-sxm", "NVIDIA H100 SXM5 80 GB", 989e12, 1979e12, 80e9, 3.35e12,
       "NVIDIA H100 Tensor Core GPU datasheet (SXM column)"},
      {"h800", "NVIDIA H800 SXM5 80 GB", 989e12, 1979e12, 80e9, 3.35e12,
       "H100 SXM5's compute and HBM3 (the export part differs in NVLink only: 400 GB/s both ways)"},
      {"h20", "NVIDIA H20 96 GB", 148e12, 296e12, 96e9, 4.0e12,
       "the H20-96G against H800 table of LMSYS and Ant Group's H20 post (2025-09-26): FP8 296, "
       "BF16 148 TFLOPS dense, 96 GB at 4,000 GB/s, NVLink 900 GB/s both ways"},
      {"h200", "NVIDIA H200 SXM 141 GB", 989e12, 1979e12, 141e9, 4.8e12,
       "NVIDIA H200 Tensor Core GPU datasheet (SXM column)"},
      {"b200", "NVIDIA B200 (HGX B200) 180 GB", 2.25e15, 4.5e15, 180e9, 8e12,
       "NVIDIA HGX B200 datasheet: 8-GPU totals divided by 8, sparse halved"},
      {"gb200", "NVIDIA Blackwell GPU in GB200 NVL72, 186 GB", 2.5e15, 5e15, 186e9, 8e12,
       "NVIDIA GB200 NVL72 datasheet: 72-GPU totals divided by 72, sparse halved"},
      {"mi300x", "AMD Instinct MI300X 192 GB", 1307.4e12, 2614.9e12, 192e9, 5.3e12,
       "AMD Instinct MI300X datasheet (dense figures)"},
  };
  return kDevices;
}

const DeviceSpec* find_device(std::string_view name) {
  for (const auto& device : device_presets())
    if (device.name == name) return &device;
  return nullptr;
}

}  // namespace moesim::sim
