// The .mtrace header, structure-aware: a header with a valid magic and CRC whose layers, experts,
// top-k and score type come from the fuzzer (boundary values such as 2^32 - 1 layers included),
// followed by fuzzed bytes, read through open_routing and summarised the way `trace stats` does.
// Only a ConfigError (TraceError) may come out; -rss_limit_mb catches a table sized by a header
// that validation let through. The trace is read from memory (open_trace_bytes: the reader and
// shape limits open_routing applies to a file), so no input costs a file.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/config_error.hpp"
#include "sim/traces/import.hpp"
#include "sim/traces/stats.hpp"
#include "sim/traces/writer.hpp"
#include "tests/fuzz/fuzz_values.hpp"

namespace {

std::uint32_t header_count(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 5)) {
    case 0:
      return 0;
    case 1:
      return 0xFFFFFFFFu;  // the 92-byte file that once passed validate, then bad_alloc
    case 2:
      return in.ConsumeIntegralInRange<std::uint32_t>(1, 8);
    case 3:
      return in.ConsumeIntegralInRange<std::uint32_t>(1000, 70000);
    default:
      return in.ConsumeIntegral<std::uint32_t>();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  moesim::sim::TraceShape shape;
  shape.layers = header_count(in);
  shape.experts = header_count(in);
  shape.top_k = header_count(in);
  shape.scores = static_cast<moesim::sim::ScoreType>(in.ConsumeIntegralInRange<int>(0, 3));
  const auto header = moesim::sim::encode_trace_header(shape);
  std::string bytes(reinterpret_cast<const char*>(header.data()), header.size());
  bytes += in.ConsumeRemainingBytesAsString();
  try {
    auto source = moesim::sim::open_trace_bytes(std::move(bytes), "fuzz.mtrace");
    const auto stats = moesim::sim::compute_trace_stats(*source);
    (void)stats;
  } catch (const moesim::ConfigError&) {
  }
  return 0;
}
