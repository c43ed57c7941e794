// libFuzzer target: arbitrary bytes as a torch.save archive (ZIP through libzip, then the pickle),
// read as SGLang's expert-distribution record and as an expert map; a record's first blocks are
// expanded into tokens. The corpus starts from the committed fixtures (tests/data/importers).
#include <cstddef>
#include <cstdint>
#include <span>

#include "sim/traces/import_stacks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto archive =
        moesim::sim::parse_torch_archive(std::as_bytes(std::span(data, size)), "fuzz.pt");
    try {
      moesim::sim::expert_map_from_torch(archive);
    } catch (const moesim::ConfigError&) {
    }
    auto source = moesim::sim::open_sglang_record(archive, {.top_k = 2});
    moesim::sim::TraceBlock block;
    // a valid record may hold millions of tokens; a few blocks exercise the expansion
    for (int blocks = 0; blocks < 16 && source->next(block); ++blocks)
      if (block.expert_ids.size() != std::size_t{block.tokens} * 2) __builtin_trap();
  } catch (const moesim::ConfigError&) {
  }
  return 0;
}
