// libFuzzer target: arbitrary bytes through the .npy parser and both importers built on it.
#include <cstdint>
#include <span>

#include "sim/traces/import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  try {
    const auto array = moesim::sim::parse_npy(bytes, "fuzz.npy");
    try {
      const auto experts = moesim::sim::npy_experts_needed(array, "fuzz.npy");
      if (experts > 0) moesim::sim::npy_to_block(array, "fuzz.npy", experts);
    } catch (const moesim::ConfigError&) {
    }
    moesim::sim::count_matrix_from_npy(array, "fuzz.npy");
  } catch (const moesim::ConfigError&) {
  }
  return 0;
}
