// Any bytes into the request-log parser (CSV or JSON Lines): a ConfigError is the only acceptable
// failure.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/config_error.hpp"
#include "sim/serving/request_log.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    moesim::sim::parse_request_log(std::string(reinterpret_cast<const char*>(data), size),
                                   "fuzz.csv");
  } catch (const moesim::ConfigError&) {
  }
  return 0;
}
