// libFuzzer target: arbitrary text as Megatron-Core's router trace (JSON Lines).
#include <cstddef>
#include <cstdint>
#include <string>

#include "sim/traces/import_stacks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto source = moesim::sim::open_megatron_router_trace("fuzz.jsonl", text, {});
    const auto shape = source->shape();
    moesim::sim::TraceBlock block;
    while (source->next(block)) {
      if (block.expert_ids.size() != std::size_t{block.tokens} * shape.top_k) __builtin_trap();
      if (block.layer >= shape.layers) __builtin_trap();
    }
  } catch (const moesim::ConfigError&) {
  }
  return 0;
}
