// libFuzzer target: arbitrary text through the CSV routing importer (per-token rows
// "step,layer,token,expert_0,..." or a count matrix "layer,e0,e1,..."), draining every block.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/config_error.hpp"
#include "sim/traces/import.hpp"

namespace {
constexpr std::uint64_t kMaxExpandedChoices = 1U << 22;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // the first byte picks the options a user may pass (--experts, --top-k), so both paths of each
  // are reached; the rest is the file
  moesim::sim::ImportOptions options;
  if (size > 0) {
    options.experts = data[0] & 0x0FU;       // 0 = max id + 1
    options.top_k = (data[0] >> 4) & 0x07U;  // 0 = refused for count matrices
  }
  try {
    auto source =
        moesim::sim::open_csv_routing("fuzz.csv", size > 0 ? text.substr(1) : text, options);
    const auto shape = source->shape();
    if (const auto* counts = source->counts()) {
      // a count matrix's rows become tokens in memory: a huge (valid) count is a memory limit, not
      // a parsing bug, and counts_import_fuzz expands the small ones
      for (const auto& row : counts->tokens_per_expert)
        for (const auto count : row)
          if (count > kMaxExpandedChoices / row.size()) return 0;
    }
    moesim::sim::TraceBlock block;
    while (source->next(block))
      if (block.expert_ids.size() != std::size_t{block.tokens} * shape.top_k) __builtin_trap();
  } catch (const moesim::ConfigError&) {
  }
  return 0;
}
