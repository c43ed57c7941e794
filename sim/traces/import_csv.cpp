// CSV routing: per-token rows "step,layer,token,expert_0,...", or a count matrix "layer,e0,e1,...".
#include <fmt/format.h>

#include <charconv>

#include "sim/spec/limits.hpp"
#include "sim/traces/import.hpp"

namespace moesim::sim {
namespace {

struct CsvLine {
  std::size_t number;  // 1-based
  std::vector<std::string_view> cells;
};

std::vector<CsvLine> split_csv(std::string_view text) {
  std::vector<CsvLine> lines;
  std::size_t number = 0;
  while (!text.empty()) {
    auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    CsvLine parsed{number, {}};
    for (std::size_t start = 0;;) {
      const auto comma = line.find(',', start);
      auto cell = line.substr(
          start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
      while (!cell.empty() && cell.front() == ' ') cell.remove_prefix(1);
      while (!cell.empty() && cell.back() == ' ') cell.remove_suffix(1);
      parsed.cells.push_back(cell);
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    lines.push_back(std::move(parsed));
  }
  return lines;
}

std::uint64_t parse_count(const CsvLine& line, std::size_t column, const std::string& source,
                          std::uint64_t max) {
  const auto cell = line.cells[column];
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (cell.empty() || error != std::errc() || end != cell.data() + cell.size() || value > max)
    throw ConfigError(source,
                      {{fmt::format("line {} column {}", line.number, column + 1),
                        fmt::format("expected an integer in [0, {}], got \"{}\"", max, cell)}});
  return value;
}

// A column's name is its expert id: a header that renames or reorders them would hand the counts
// to the wrong experts.
void check_expert_columns(const CsvLine& header, const std::string& source) {
  for (std::size_t c = 1; c < header.cells.size(); ++c)
    if (const auto expected = fmt::format("e{}", c - 1); header.cells[c] != expected)
      throw ConfigError(source, {{fmt::format("line {} column {}", header.number, c + 1),
                                  fmt::format("expected expert column \"{}\" (e0, e1, ... in "
                                              "order), got \"{}\"",
                                              expected, header.cells[c])}});
}

}  // namespace

CountMatrix count_matrix_from_csv(const std::string& text, const std::string& source) {
  const auto lines = split_csv(text);
  if (lines.empty() || lines.front().cells.front() != "layer")
    throw ConfigError(source, {{"line 1", "expected a header starting with \"layer\""}});
  CountMatrix counts;
  if (lines.front().cells.size() - 1 > static_cast<std::size_t>(kMaxExperts))
    throw ConfigError(
        source,
        {{"line 1", fmt::format("expected at most {} expert columns (docs/limits.md), got {}",
                                kMaxExperts, lines.front().cells.size() - 1)}});
  counts.experts = static_cast<std::uint32_t>(lines.front().cells.size() - 1);
  if (counts.experts == 0)
    throw ConfigError(source, {{"line 1", "expected one column per expert after \"layer\""}});
  check_expert_columns(lines.front(), source);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto& line = lines[i];
    if (line.cells.size() != counts.experts + 1U)
      throw ConfigError(source, {{fmt::format("line {}", line.number),
                                  fmt::format("expected {} columns like the header, got {}",
                                              counts.experts + 1, line.cells.size())}});
    const auto layer = static_cast<std::int64_t>(parse_count(line, 0, source, INT32_MAX));
    // layers are the model's (0, 7, 15 in the real-routing files): one row each, in order
    if (!counts.layer_ids.empty() && layer <= counts.layer_ids.back())
      throw ConfigError(source, {{fmt::format("line {} column 1", line.number),
                                  fmt::format("expected a layer above the previous row's {} (one "
                                              "row per layer, in order), got {}",
                                              counts.layer_ids.back(), layer)}});
    counts.layer_ids.push_back(layer);
    auto& row = counts.tokens_per_expert.emplace_back();
    for (std::size_t c = 1; c < line.cells.size(); ++c)
      row.push_back(parse_count(line, c, source, UINT32_MAX));
  }
  if (counts.tokens_per_expert.empty())
    throw ConfigError(source, {{"line 2", "expected at least one layer row"}});
  return counts;
}

std::unique_ptr<RoutingSource> open_csv_routing(const std::string& path, const std::string& text,
                                                const ImportOptions& options) {
  const auto lines = split_csv(text);
  if (!lines.empty() && lines.front().cells.front() == "layer")
    return make_count_source(count_matrix_from_csv(text, path), options.top_k, path);
  const auto& header = lines.empty() ? CsvLine{1, {""}} : lines.front();
  if (header.cells.size() < 4 || header.cells[0] != "step" || header.cells[1] != "layer" ||
      header.cells[2] != "token")
    throw ConfigError(
        path,
        {{"line 1", "expected a header \"step,layer,token,expert_0,...\" or \"layer,e0,e1,...\""}});
  if (header.cells.size() - 3 > static_cast<std::size_t>(kMaxTopK))
    throw ConfigError(
        path, {{"line 1",
                fmt::format("expected at most {} expert columns (top_k, docs/limits.md), got {}",
                            kMaxTopK, header.cells.size() - 3)}});
  const auto top_k = static_cast<std::uint32_t>(header.cells.size() - 3);
  // CSV is for small hand-written traces: the whole file is held as blocks
  std::vector<TraceBlock> blocks;
  std::uint64_t layers = 0, largest = 0;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto& line = lines[i];
    if (line.cells.size() != header.cells.size())
      throw ConfigError(path, {{fmt::format("line {}", line.number),
                                fmt::format("expected {} columns like the header, got {}",
                                            header.cells.size(), line.cells.size())}});
    const auto step = parse_count(line, 0, path, UINT32_MAX);
    const auto layer = parse_count(line, 1, path, static_cast<std::uint64_t>(kMaxLayers - 1));
    const auto token = parse_count(line, 2, path, UINT32_MAX);
    if (blocks.empty() || blocks.back().step != step || blocks.back().layer != layer) {
      const bool next_layer =
          !blocks.empty() && step == blocks.back().step && layer == blocks.back().layer + 1;
      const bool next_step =
          layer == 0 && (blocks.empty() ? step == 0 : step == blocks.back().step + 1U);
      if (!next_layer && !next_step)
        throw ConfigError(path, {{fmt::format("line {}", line.number),
                                  fmt::format("expected rows grouped by step then layer, in order "
                                              "from 0; got step {} layer {} here",
                                              step, layer)}});
      if (next_step && !blocks.empty() && blocks.back().layer + 1 != layers)
        throw ConfigError(path,
                          {{fmt::format("line {}", line.number),
                            fmt::format("expected step {} to hold all {} layers before step {}",
                                        blocks.back().step, layers, step)}});
      blocks.push_back(
          {static_cast<std::uint32_t>(step), static_cast<std::uint32_t>(layer), 0, {}, {}});
      layers = std::max<std::uint64_t>(layers, layer + 1);
    }
    auto& block = blocks.back();
    if (token != block.tokens)
      throw ConfigError(
          path, {{fmt::format("line {} column 3", line.number),
                  fmt::format("expected token {} (tokens numbered from 0 in each layer), got {}",
                              block.tokens, token)}});
    ++block.tokens;
    for (std::size_t c = 3; c < line.cells.size(); ++c) {
      // ids are bounded before any table is sized by the largest one (docs/limits.md)
      const auto id = parse_count(
          line, c, path,
          options.experts ? options.experts - 1U : static_cast<std::uint64_t>(kMaxExperts - 1));
      block.expert_ids.push_back(static_cast<std::uint32_t>(id));
      largest = std::max(largest, id);
    }
    const std::span<const std::uint32_t> ids(block.expert_ids.end() - top_k,
                                             block.expert_ids.end());
    if (auto problem = check_token_choices(ids, UINT32_MAX); !problem.empty())
      throw ConfigError(path, {{fmt::format("line {}", line.number), problem}});
  }
  if (blocks.empty()) throw ConfigError(path, {{"line 2", "expected at least one routing row"}});
  for (const auto& block : blocks)
    if (block.step == blocks.back().step && block.layer == blocks.back().layer &&
        block.layer + 1 != layers)
      throw ConfigError(
          path,
          {{"/",
            fmt::format("expected every step to hold all {} layers; the last step ends at layer {}",
                        layers, block.layer)}});
  const auto experts = options.experts ? options.experts : static_cast<std::uint32_t>(largest + 1);
  if (top_k > experts)
    throw ConfigError(path,
                      {{"line 1", fmt::format("expected top_k {} <= experts {}", top_k, experts)}});
  return make_block_source({static_cast<std::uint32_t>(layers), experts, top_k, ScoreType::None},
                           std::move(blocks));
}

}  // namespace moesim::sim
