// libFuzzer target: arbitrary bytes as vLLM's routed experts, numpy.savez of per-request
// [tokens, layers, top_k] arrays (a ZIP through libzip), and as one such .npy.
#include <cstddef>
#include <cstdint>
#include <span>

#include "sim/traces/import_stacks.hpp"

namespace {

void drain(moesim::sim::RoutingSource& source) {
  moesim::sim::TraceBlock block;
  const auto top_k = source.shape().top_k;
  while (source.next(block))
    if (block.expert_ids.size() != std::size_t{block.tokens} * top_k) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  try {
    drain(*moesim::sim::parse_vllm_routed_experts_npz(bytes, "fuzz.npz", {}));
  } catch (const moesim::ConfigError&) {
  }
  try {
    const auto array = moesim::sim::parse_npy(bytes, "fuzz.npy");
    drain(*moesim::sim::open_vllm_routed_experts(array, "fuzz.npy", {.experts = 16}));
  } catch (const moesim::ConfigError&) {
  }
  return 0;
}
