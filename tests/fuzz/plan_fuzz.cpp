// Any bytes into the plan parser (base, target, search grid): a ConfigError is the only
// acceptable failure. Candidates are expanded, not simulated.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/config_error.hpp"
#include "sim/plan/plan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    moesim::sim::parse_plan(std::string(text), "fuzz.json");
  } catch (const moesim::ConfigError&) {
  }
  return 0;
}
