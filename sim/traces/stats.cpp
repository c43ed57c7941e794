#include "sim/traces/stats.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace moesim::sim {
namespace {

constexpr std::uint32_t kMaxCoactivationExperts = 512;
// All layers' pair tables together: 2^24 cells (128 MiB) hold Kimi K2 (61 x 384^2), while a
// 15-byte header of 512 layers x 512 experts once zeroed 1 GiB before reading a block (found by
// trace_header_fuzz as a timeout).
constexpr std::uint64_t kMaxCoactivationCells = std::uint64_t{1} << 24;
constexpr std::size_t kTopN = 5;

void finish_layer(LayerStats& layer, std::uint32_t top_k) {
  const auto& counts = layer.tokens_per_expert;
  const double total =
      static_cast<double>(std::accumulate(counts.begin(), counts.end(), std::uint64_t{0}));
  const double mean = total / static_cast<double>(counts.size());
  const auto max = *std::max_element(counts.begin(), counts.end());
  layer.imbalance = mean > 0 ? static_cast<double>(max) / mean : 0.0;
  layer.entropy_bits = 0;
  for (auto c : counts)
    if (c > 0) {
      const double p = static_cast<double>(c) / total;
      layer.entropy_bits -= p * std::log2(p);
    }
  layer.entropy_normalised =
      counts.size() > 1 ? layer.entropy_bits / std::log2(static_cast<double>(counts.size())) : 1.0;
  std::vector<std::uint32_t> order(counts.size());
  std::iota(order.begin(), order.end(), 0U);
  const auto n = std::min(kTopN, order.size());
  std::partial_sort(
      order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
      [&](auto a, auto b) { return counts[a] != counts[b] ? counts[a] > counts[b] : a < b; });
  layer.hottest.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n));
  if (layer.tokens == 0 && top_k > 0) layer.tokens = static_cast<std::uint64_t>(total) / top_k;
  if (layer.coactivation.empty()) return;
  const std::size_t experts = counts.size();
  for (std::uint32_t a = 0; a < experts; ++a)
    for (std::uint32_t b = a + 1; b < experts; ++b) {
      const auto tokens = layer.coactivation[a * experts + b];
      if (tokens == 0) continue;
      layer.coactivated.push_back({a, b, tokens});
      std::sort(layer.coactivated.begin(), layer.coactivated.end(),
                [](const auto& x, const auto& y) {
                  return x.tokens > y.tokens;
                });  // stable enough: ties keep scan order
      if (layer.coactivated.size() > kTopN) layer.coactivated.pop_back();
    }
}

}  // namespace

TraceStats compute_trace_stats(RoutingSource& source) {
  TraceStats stats;
  stats.shape = source.shape();
  const auto experts = stats.shape.experts;
  if (const CountMatrix* counts = source.counts()) {
    stats.per_token = false;
    stats.steps = 1;
    for (std::size_t r = 0; r < counts->tokens_per_expert.size(); ++r) {
      LayerStats layer;
      layer.layer = counts->layer_ids[r];
      layer.tokens_per_expert = counts->tokens_per_expert[r];
      finish_layer(layer, stats.shape.top_k);
      stats.layers.push_back(std::move(layer));
    }
    return stats;
  }
  const bool coactivation =
      experts <= kMaxCoactivationExperts && stats.shape.top_k > 1 &&
      std::uint64_t{stats.shape.layers} * experts * experts <= kMaxCoactivationCells;
  stats.layers.resize(stats.shape.layers);
  for (std::uint32_t l = 0; l < stats.shape.layers; ++l) {
    stats.layers[l].layer = l;
    stats.layers[l].tokens_per_expert.assign(experts, 0);
    if (coactivation) stats.layers[l].coactivation.assign(std::size_t{experts} * experts, 0);
  }
  TraceBlock block;
  const std::size_t k = stats.shape.top_k;
  while (source.next(block)) {
    auto& layer = stats.layers[block.layer];
    layer.tokens += block.tokens;
    for (auto e : block.expert_ids) ++layer.tokens_per_expert[e];
    // Pairs are counted in the order the token lists them, cell [first][second], and folded into
    // the upper triangle at the end: ordering each pair with min/max cost ~4x the increment
    // itself (docs/performance.md).
    if (coactivation)
      for (std::size_t t = 0; t < block.tokens; ++t) {
        const std::uint32_t* ids = &block.expert_ids[t * k];
        for (std::size_t i = 0; i < k; ++i) {
          std::uint64_t* row = &layer.coactivation[std::size_t{ids[i]} * experts];
          for (std::size_t j = i + 1; j < k; ++j) ++row[ids[j]];
        }
      }
    if (block.layer + 1 == stats.shape.layers) ++stats.steps;
  }
  if (coactivation)
    for (auto& layer : stats.layers)
      for (std::size_t a = 0; a < experts; ++a)
        for (std::size_t b = a + 1; b < experts; ++b) {
          layer.coactivation[a * experts + b] += layer.coactivation[b * experts + a];
          layer.coactivation[b * experts + a] = 0;
        }
  for (auto& layer : stats.layers) finish_layer(layer, stats.shape.top_k);
  return stats;
}

nlohmann::json trace_stats_to_json(const TraceStats& stats) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& layer : stats.layers) {
    nlohmann::json pairs = nlohmann::json::array();
    for (const auto& pair : layer.coactivated)
      pairs.push_back({{"experts", {pair.a, pair.b}}, {"tokens", pair.tokens}});
    layers.push_back({{"layer", layer.layer},
                      {"tokens", layer.tokens},
                      {"tokens_per_expert", layer.tokens_per_expert},
                      {"imbalance_max_over_mean", layer.imbalance},
                      {"entropy_bits", layer.entropy_bits},
                      {"entropy_normalised", layer.entropy_normalised},
                      {"hottest_experts", layer.hottest},
                      {"coactivated_pairs", stats.per_token ? pairs : nlohmann::json(nullptr)}});
  }
  return {{"layers_in_trace", stats.shape.layers},
          {"experts", stats.shape.experts},
          {"top_k", stats.shape.top_k},
          {"steps", stats.steps},
          {"per_token", stats.per_token},
          {"layers", layers}};
}

std::string trace_stats_text(const TraceStats& stats) {
  std::string text = fmt::format("{} layers x {} experts, top-{}, {} step(s){}\n",
                                 stats.shape.layers, stats.shape.experts, stats.shape.top_k,
                                 stats.steps, stats.per_token ? "" : " (count matrix)");
  text +=
      fmt::format("{:>6} {:>12} {:>9} {:>8} {:>9}  {:<24} {}\n", "layer", "tokens", "max/mean",
                  "entropy", "norm.", "hottest", stats.per_token ? "top co-activated pairs" : "");
  for (const auto& layer : stats.layers) {
    std::string hottest, pairs;
    for (auto e : layer.hottest) hottest += fmt::format("{}{}", hottest.empty() ? "" : ",", e);
    for (const auto& pair : layer.coactivated)
      pairs += fmt::format("{}{}+{}:{}", pairs.empty() ? "" : " ", pair.a, pair.b, pair.tokens);
    text += fmt::format("{:>6} {:>12} {:>9.3f} {:>8.3f} {:>9.3f}  {:<24} {}\n", layer.layer,
                        layer.tokens, layer.imbalance, layer.entropy_bits, layer.entropy_normalised,
                        hottest, pairs);
  }
  text += "tokens per expert:\n";
  for (const auto& layer : stats.layers)
    text += fmt::format("  layer {}: {}\n", layer.layer, fmt::join(layer.tokens_per_expert, " "));
  return text;
}

std::vector<double> load_over_mean(const LayerStats& layer) {
  const auto& counts = layer.tokens_per_expert;
  const double total =
      static_cast<double>(std::accumulate(counts.begin(), counts.end(), std::uint64_t{0}));
  const double mean = total / static_cast<double>(std::max<std::size_t>(1, counts.size()));
  std::vector<double> ratios(counts.size(), 0.0);
  if (mean > 0)
    for (std::size_t e = 0; e < counts.size(); ++e)
      ratios[e] = static_cast<double>(counts[e]) / mean;
  return ratios;
}

}  // namespace moesim::sim
