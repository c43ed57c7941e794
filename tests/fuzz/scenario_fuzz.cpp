// Any bytes into the scenario parser: a ConfigError is the only acceptable failure.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/config_error.hpp"
#include "sim/cost/memory_model.hpp"
#include "sim/spec/scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto scenario = moesim::sim::parse_scenario(text, "fuzz.json");
    moesim::sim::ensure_fits(scenario);
  } catch (const moesim::ConfigError&) {
  }
  return 0;
}
