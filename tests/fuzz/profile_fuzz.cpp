// Any bytes into the measured-profile reader (curves, ceilings, NCCL all-to-all entries, the
// attention core) and the lookups the simulator makes on it: a ConfigError is the only acceptable
// failure.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/config_error.hpp"
#include "base/strict_json.hpp"
#include "sim/cost/measured_profile.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const moesim::sim::MeasuredProfile profile(moesim::parse_strict_json(text, "fuzz.json"),
                                               "fuzz.json");
    for (const auto& name : profile.model_names())
      if (const auto* curves = profile.model(name)) profile.experts_us(*curves, {0, 1, 100, 5000});
    if (const auto* curve = profile.all_to_all_curve(8))
      moesim::sim::interpolate(curve->busbw, 1 << 20);
    if (const auto* core = profile.attention_core())
      for (const double prompt : {1.0, 2000.0, 1e9})
        moesim::sim::attention_core_share(*core, prompt);
  } catch (const moesim::ConfigError&) {
  }
  return 0;
}
