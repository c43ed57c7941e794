// libFuzzer target: arbitrary text through the count-matrix importers (JSON, including the
// real-routing files, and CSV "layer,e0,e1,..."), then each row turned back into tokens.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/config_error.hpp"
#include "sim/traces/import.hpp"

namespace {

// Rows above this many token-expert choices are not expanded: tokens_from_counts() holds a row's
// ids in memory, so a huge (valid) count is a memory limit, not a parsing bug.
constexpr std::uint64_t kMaxExpandedChoices = 1U << 22;

void expand_rows(const moesim::sim::CountMatrix& counts, std::uint32_t top_k) {
  if (counts.tokens_per_expert.size() != counts.layer_ids.size()) __builtin_trap();
  for (std::uint32_t row = 0; row < counts.tokens_per_expert.size(); ++row) {
    if (counts.tokens_per_expert[row].size() != counts.experts) __builtin_trap();
    std::uint64_t choices = 0;
    for (const auto count : counts.tokens_per_expert[row])
      choices += std::min(count, kMaxExpandedChoices);
    if (choices >= kMaxExpandedChoices) continue;
    try {
      const auto block = moesim::sim::tokens_from_counts(counts, row, top_k, "fuzz");
      if (block.expert_ids.size() != std::size_t{block.tokens} * top_k) __builtin_trap();
    } catch (const moesim::ConfigError&) {
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto counts = moesim::sim::count_matrix_from_json(text, "fuzz.json");
    expand_rows(counts, counts.top_k != 0 ? counts.top_k : 1);
  } catch (const moesim::ConfigError&) {
  }
  try {
    const auto counts = moesim::sim::count_matrix_from_csv(text, "fuzz.csv");
    expand_rows(counts, 2);
  } catch (const moesim::ConfigError&) {
  }
  return 0;
}
