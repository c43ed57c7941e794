#pragma once
// Accelerators: dense (never sparse) tensor throughput, HBM capacity and bandwidth.
#include <span>
#include <string>
#include <string_view>

#include "base/units.hpp"

namespace moesim::sim {

struct DeviceSpec {
  std::string name;
  std::string description;
  FlopsPerSecond bf16_flops = 0;  // dense
  FlopsPerSecond fp8_flops = 0;   // dense
  double hbm_bytes = 0;
  BytesPerSecond hbm_bandwidth = 0;
  std::string source;
};

std::span<const DeviceSpec> device_presets();
const DeviceSpec* find_device(std::string_view name);

}  // namespace moesim::sim
