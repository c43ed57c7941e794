// libFuzzer target: arbitrary bytes through TraceReader (sequential read, then index and seek).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "sim/traces/reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path =
      "/tmp/moesim-trace-fuzz-" + std::to_string(::getpid()) + ".mtrace";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    moesim::sim::TraceReader reader(path);
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
