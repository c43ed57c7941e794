#pragma once
// Network adapters, a preset of their own (a GPU does not imply its NIC). Sources in
// docs/presets.md.
#include <span>
#include <string>
#include <string_view>

#include "base/units.hpp"

namespace moesim::topology {

struct NicSpec {
  std::string name;
  std::string description;
  BytesPerSecond bandwidth = 0;  // per direction
  Seconds latency = 0;           // one-way adapter + wire latency
  std::string source;
};

std::span<const NicSpec> nic_presets();
const NicSpec* find_nic(std::string_view name);

}  // namespace moesim::topology
