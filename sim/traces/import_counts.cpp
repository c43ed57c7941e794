// Per-expert count matrices [layers, experts] from .npy and from JSON (including the files in
// shared/data/real-routing).
#include <fmt/format.h>

#include <algorithm>

#include "base/strict_json.hpp"
#include "sim/traces/import.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

// An optional integer field in [1, max]; 0 when absent or wrong (a problem then).
std::uint64_t positive_int(const Json& json, const char* key, std::uint64_t max,
                           ProblemList& problems) {
  if (!json.contains(key)) return 0;
  const auto& value = json[key];
  if (!value.is_number_integer() || value.get<std::int64_t>() < 1 ||
      value.get<std::uint64_t>() > max) {
    problems.add(fmt::format("/{}", key), fmt::format("expected an integer in [1, {}], got {}", max,
                                                      describe_json_value(value)));
    return 0;
  }
  return value.get<std::uint64_t>();
}

// Row r of tokens_per_expert: one count per expert (the first row sets the expert count unless
// the file declares it), summing to tokens x top_k when the file gives both.
void read_count_row(const Json& row, std::size_t r, std::uint64_t declared_experts,
                    std::uint64_t tokens, CountMatrix& counts, ProblemList& problems) {
  const std::string where = fmt::format("/tokens_per_expert/{}", r);
  if (!row.is_array() || row.empty()) {
    problems.add(where, "expected a non-empty array of per-expert token counts");
    return;
  }
  const std::size_t expected =
      r == 0 ? (declared_experts ? declared_experts : row.size()) : counts.experts;
  if (r == 0) counts.experts = static_cast<std::uint32_t>(expected);
  if (row.size() != expected) {
    problems.add(where,
                 fmt::format("expected {} counts (one per expert), got {}", expected, row.size()));
    return;
  }
  auto& values = counts.tokens_per_expert.emplace_back();
  std::uint64_t sum = 0;
  for (std::size_t e = 0; e < row.size(); ++e) {
    if (!row[e].is_number_integer() || row[e].get<std::int64_t>() < 0) {
      problems.add(fmt::format("{}/{}", where, e),
                   fmt::format("expected a count >= 0, got {}", describe_json_value(row[e])));
      values.push_back(0);
      continue;
    }
    values.push_back(row[e].get<std::uint64_t>());
    sum += values.back();
  }
  if (tokens && counts.top_k && sum != tokens * counts.top_k)
    problems.add(where, fmt::format("expected counts summing to tokens {} x top_k {} = {}, got {}",
                                    tokens, counts.top_k, tokens * counts.top_k, sum));
}

// The model's layer numbers, one per row, when the file names them.
void read_layer_ids(const Json& json, std::size_t rows, CountMatrix& counts,
                    ProblemList& problems) {
  if (!json.contains("layers")) return;
  const auto& layers = json["layers"];
  if (!layers.is_array() || layers.size() != rows ||
      !std::all_of(layers.begin(), layers.end(),
                   [](const auto& l) { return l.is_number_integer(); }))
    problems.add("/layers",
                 fmt::format("expected an array of {} layer numbers (one per row)", rows));
  else
    for (std::size_t r = 0; r < rows; ++r) {
      const auto layer = layers[r].get<std::int64_t>();
      // one row per model layer, in order (a repeated layer would be counted twice)
      if (r > 0 && layer <= counts.layer_ids.back())
        problems.add(fmt::format("/layers/{}", r),
                     fmt::format("expected a layer above /layers/{} ({}), one row per layer in "
                                 "order, got {}",
                                 r - 1, counts.layer_ids.back(), layer));
      counts.layer_ids.push_back(layer);
    }
}

}  // namespace

CountMatrix count_matrix_from_json(const std::string& text, const std::string& source) {
  const auto json = parse_strict_json(text, source);
  ProblemList problems;
  CountMatrix counts;
  if (!json.is_object())
    throw ConfigError(source, {{"/", "expected an object with tokens_per_expert"}});
  const auto* rows = json.contains("tokens_per_expert") ? &json["tokens_per_expert"] : nullptr;
  if (rows == nullptr || !rows->is_array() || rows->empty())
    throw ConfigError(source,
                      {{"/tokens_per_expert", "expected a non-empty array of per-layer rows"}});
  counts.top_k = static_cast<std::uint32_t>(positive_int(json, "top_k", 65536, problems));
  const auto declared_experts = positive_int(json, "experts", UINT32_MAX, problems);
  const auto tokens = positive_int(json, "tokens", UINT32_MAX, problems);
  for (std::size_t r = 0; r < rows->size(); ++r)
    read_count_row((*rows)[r], r, declared_experts, tokens, counts, problems);
  read_layer_ids(json, rows->size(), counts, problems);
  problems.throw_if_any(source);
  if (counts.layer_ids.empty())
    for (std::size_t r = 0; r < counts.tokens_per_expert.size(); ++r)
      counts.layer_ids.push_back(static_cast<std::int64_t>(r));
  return counts;
}

CountMatrix count_matrix_from_npy(const NpyArray& array, const std::string& source) {
  if (array.shape.size() != 1 && array.shape.size() != 2)
    throw TraceError(source, 0,
                     fmt::format("expected a [layers, experts] count matrix, got {} dimensions",
                                 array.shape.size()));
  const std::uint64_t rows = array.shape.size() == 2 ? array.shape[0] : 1;
  const std::uint64_t experts = array.shape.back();
  if (rows == 0 || experts == 0 || experts > UINT32_MAX)
    throw TraceError(
        source, 0,
        fmt::format("expected at least one layer and 1 to 2^32-1 experts, got [{}, {}]", rows,
                    experts));
  CountMatrix counts;
  counts.experts = static_cast<std::uint32_t>(experts);
  for (std::uint64_t r = 0; r < rows; ++r) {
    auto& row = counts.tokens_per_expert.emplace_back();
    for (std::uint64_t e = 0; e < experts; ++e) {
      const auto value = array.at(r * experts + e);
      if (value < 0)
        throw TraceError(
            source,
            array.data_offset + (r * experts + e) * static_cast<std::uint64_t>(array.item_bytes),
            fmt::format("layer {} expert {}: expected a count >= 0, got {}", r, e, value));
      row.push_back(static_cast<std::uint64_t>(value));
    }
    counts.layer_ids.push_back(static_cast<std::int64_t>(r));
  }
  return counts;
}

}  // namespace moesim::sim
