// Any bytes into the calibration-timings reader (docs/calibrate.md) and, when they parse, into the
// fit and the prediction of each record: a ConfigError is the only acceptable failure.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/config_error.hpp"
#include "base/strict_json.hpp"
#include "sim/calibrate/fit.hpp"
#include "sim/calibrate/holdout.hpp"
#include "sim/calibrate/timings.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto records =
        moesim::sim::read_timings(moesim::parse_strict_json(text, "fuzz.json"), "fuzz.json");
    if (records.size() <= 64) {  // the fit is quadratic in records; keep each input fast
      const auto phases = moesim::sim::calibrate_phases(records);
      moesim::sim::check_calibration(phases, records);
      moesim::ProblemList problems;  // what calibrate writes must read back
      moesim::sim::read_calibrated_phases(nlohmann::json{{"c", moesim::sim::to_json(phases)}}, "/c",
                                          problems);
    }
  } catch (const moesim::ConfigError&) {
  }
  return 0;
}
