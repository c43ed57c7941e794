// libFuzzer target: arbitrary bytes through TraceReader (sequential read, then index and seek),
// read from memory: the same checks as a file, without writing one per input.
#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/traces/reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    moesim::sim::TraceReader reader("fuzz.mtrace",
                                    std::string(reinterpret_cast<const char*>(data), size));
    moesim::sim::TraceBlock block;
    while (reader.next(block)) {
    }
    if (reader.steps() > 0) reader.seek_step(reader.steps() - 1);
    while (reader.next(block)) {
    }
  } catch (const moesim::ConfigError&) {
  }
  return 0;
}
