// Megatron-Core's router trace (megatron/core/transformer/moe/router_trace.py, enabled by
// --moe-routing-trace-path): JSON Lines, one record per (step, block, layer) with the chosen expert
// indices top_indices [num_tokens][topk]. Decoder layers become the MoE layers in layer order;
// multi-token-prediction records (block "mtp") are a separate head and are left out.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>

#include "base/strict_json.hpp"
#include "sim/spec/limits.hpp"
#include "sim/traces/import_stacks.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

struct RouterRecord {
  std::int64_t step = 0;
  std::int64_t layer = 0;
  std::uint32_t top_k = 0;
  std::vector<std::uint32_t> ids;  // [tokens][top_k]
};

[[noreturn]] void fail_line(const std::string& source, std::size_t line, const std::string& field,
                            const std::string& message) {
  throw ConfigError(source, {{fmt::format("line {}{}", line, field), message}});
}

std::int64_t integer_field(const Json& record, const char* key, std::int64_t max,
                           const std::string& source, std::size_t line) {
  if (!record.contains(key) || !record[key].is_number_integer() ||
      record[key].get<std::int64_t>() < 0 || record[key].get<std::int64_t>() > max)
    fail_line(source, line, fmt::format(" /{}", key),
              fmt::format("expected an integer in [0, {}], got {}", max,
                          record.contains(key) ? describe_json_value(record[key]) : "nothing"));
  return record[key].get<std::int64_t>();
}

// One decoder record's top_indices, checked: num_tokens rows of topk distinct ids below
// kMaxExperts.
RouterRecord read_record(const Json& record, const std::string& source, std::size_t line) {
  RouterRecord out;
  out.step = integer_field(record, "step", INT32_MAX, source, line);
  out.layer = integer_field(record, "layer", INT32_MAX, source, line);
  const auto tokens = integer_field(record, "num_tokens", kMaxTokensPerBlock, source, line);
  out.top_k = static_cast<std::uint32_t>(integer_field(record, "topk", kMaxTopK, source, line));
  if (out.top_k == 0) fail_line(source, line, " /topk", "expected topk >= 1, got 0");
  const auto* rows = record.contains("top_indices") ? &record["top_indices"] : nullptr;
  if (rows == nullptr || !rows->is_array() || rows->size() != static_cast<std::size_t>(tokens))
    fail_line(source, line, " /top_indices",
              fmt::format("expected num_tokens = {} rows of expert indices", tokens));
  out.ids.reserve(static_cast<std::size_t>(tokens) * out.top_k);
  for (std::size_t t = 0; t < rows->size(); ++t) {
    const auto& row = (*rows)[t];
    if (!row.is_array() || row.size() != out.top_k)
      fail_line(source, line, fmt::format(" /top_indices/{}", t),
                fmt::format("expected topk = {} expert indices, got {}", out.top_k,
                            describe_json_value(row)));
    for (std::size_t k = 0; k < row.size(); ++k) {
      if (!row[k].is_number_integer() || row[k].get<std::int64_t>() < 0 ||
          row[k].get<std::int64_t>() >= kMaxExperts)
        fail_line(source, line, fmt::format(" /top_indices/{}/{}", t, k),
                  fmt::format("expected an expert index in [0, {}), got {}", kMaxExperts,
                              describe_json_value(row[k])));
      out.ids.push_back(row[k].get<std::uint32_t>());
    }
    const std::span<const std::uint32_t> ids(out.ids.end() - out.top_k, out.top_k);
    if (auto problem = check_token_choices(ids, kMaxExperts); !problem.empty())
      fail_line(source, line, fmt::format(" /top_indices/{}", t), problem);
  }
  return out;
}

// Lines of the file, parsed; decoder records only (which a missing "block" counts as).
std::vector<std::pair<std::size_t, RouterRecord>> read_records(const std::string& source,
                                                               const std::string& text) {
  std::vector<std::pair<std::size_t, RouterRecord>> records;
  std::size_t line = 0;
  for (std::size_t begin = 0; begin < text.size();) {
    auto end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    ++line;
    const std::string_view content(text.data() + begin, end - begin);
    begin = end + 1;
    if (content.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const auto json =
        parse_strict_json(std::string(content), fmt::format("{}: line {}", source, line));
    if (!json.is_object()) fail_line(source, line, "", "expected a JSON object per line");
    if (json.contains("block") &&
        (!json["block"].is_string() || (json["block"] != "decoder" && json["block"] != "mtp")))
      fail_line(source, line, " /block", "expected \"decoder\" or \"mtp\"");
    if (json.contains("block") && json["block"] == "mtp") continue;
    records.emplace_back(line, read_record(json, source, line));
  }
  if (records.empty()) throw ConfigError(source, {{"/", "expected at least one decoder record"}});
  return records;
}

// Blocks renumbered: steps 0, 1, ... in step order, each with every MoE layer.
std::vector<TraceBlock> in_step_order(
    std::map<std::pair<std::int64_t, std::size_t>, TraceBlock> blocks,
    const std::vector<std::int64_t>& layers, const std::string& source) {
  const auto missing = [&](std::int64_t step, std::size_t layer) {
    return ConfigError(source, {{fmt::format("step {}", step),
                                 fmt::format("expected a record for every MoE layer ({}) in each "
                                             "step; layer {} has none",
                                             fmt::join(layers, ", "), layers[layer])}});
  };
  std::vector<TraceBlock> ordered;
  std::int64_t previous_step = -1;
  std::size_t in_step = 0;  // layers seen in the current step
  std::uint32_t step_index = 0;
  for (auto& [key, block] : blocks) {
    if (key.first != previous_step) {
      if (previous_step >= 0 && in_step != layers.size()) throw missing(previous_step, in_step);
      if (previous_step >= 0) ++step_index;
      previous_step = key.first;
      in_step = 0;
    }
    if (key.second != in_step) throw missing(key.first, in_step);
    ++in_step;
    block.step = step_index;
    block.layer = static_cast<std::uint32_t>(key.second);
    ordered.push_back(std::move(block));
  }
  if (in_step != layers.size()) throw missing(previous_step, in_step);
  return ordered;
}

}  // namespace

std::unique_ptr<RoutingSource> open_megatron_router_trace(const std::string& source,
                                                          const std::string& text,
                                                          const ImportOptions& options) {
  const auto records = read_records(source, text);
  std::set<std::int64_t> layer_numbers;
  std::uint32_t largest = 0;
  for (const auto& [line, record] : records) {
    layer_numbers.insert(record.layer);
    if (record.top_k != records.front().second.top_k)
      fail_line(source, line, " /topk",
                fmt::format("expected topk {} like line {}, got {}", records.front().second.top_k,
                            records.front().first, record.top_k));
    for (const auto id : record.ids) largest = std::max(largest, id);
  }
  if (layer_numbers.size() > static_cast<std::size_t>(kMaxLayers))
    throw ConfigError(source, {{"/", fmt::format("expected at most {} MoE layers, got {}",
                                                 kMaxLayers, layer_numbers.size())}});
  const std::vector<std::int64_t> layers(layer_numbers.begin(), layer_numbers.end());
  const std::uint32_t experts = options.experts ? options.experts : largest + 1;
  // (step, MoE layer) → tokens of every rank's record, in file order
  std::map<std::pair<std::int64_t, std::size_t>, TraceBlock> blocks;
  for (const auto& [line, record] : records) {
    const auto layer = static_cast<std::size_t>(
        std::lower_bound(layers.begin(), layers.end(), record.layer) - layers.begin());
    auto& block = blocks[{record.step, layer}];
    for (const auto id : record.ids)
      if (id >= experts)
        fail_line(source, line, " /top_indices",
                  fmt::format("expected expert indices below --experts {}, got {}", experts, id));
    if (block.expert_ids.size() + record.ids.size() > static_cast<std::size_t>(kMaxChoicesPerBlock))
      fail_line(source, line, "",
                fmt::format("expected at most {} choices per step and layer", kMaxChoicesPerBlock));
    block.expert_ids.insert(block.expert_ids.end(), record.ids.begin(), record.ids.end());
    block.tokens += static_cast<std::uint32_t>(record.ids.size() / record.top_k);
  }
  auto ordered = in_step_order(std::move(blocks), layers, source);
  return make_block_source({static_cast<std::uint32_t>(layers.size()), experts,
                            records.front().second.top_k, ScoreType::None},
                           std::move(ordered));
}

}  // namespace moesim::sim
