#pragma once
// Per-layer routing statistics of any routing source: tokens per expert, max/mean imbalance,
// entropy, hottest experts and the most co-activated expert pairs; and a layer × expert heat map.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/traces/import.hpp"

namespace moesim::sim {

struct ExpertPair {
  std::uint32_t a = 0;
  std::uint32_t b = 0;
  std::uint64_t tokens = 0;  // tokens that chose both a and b in this layer
};

struct LayerStats {
  std::int64_t layer = 0;  // the model layer (count matrices may skip layers)
  std::uint64_t tokens = 0;
  std::vector<std::uint64_t> tokens_per_expert;
  double imbalance = 0;                     // max / mean tokens per expert
  double entropy_bits = 0;                  // of the expert-load distribution
  double entropy_normalised = 0;            // entropy / log2(experts): 1 = perfectly even
  std::vector<std::uint32_t> hottest;       // up to 5 experts, most loaded first
  std::vector<ExpertPair> coactivated;      // up to 5 pairs; empty for count matrices
  std::vector<std::uint64_t> coactivation;  // experts × experts, row-major; empty when not recorded
};

struct TraceStats {
  TraceShape shape;
  std::uint64_t steps = 0;
  bool per_token = true;  // false for count matrices: no co-activation
  std::vector<LayerStats> layers;
};

// Streams the source once (memory: one block plus the per-layer counters). Co-activation is
// counted when the source is per-token and experts <= 512.
TraceStats compute_trace_stats(RoutingSource& source);

nlohmann::json trace_stats_to_json(const TraceStats& stats);
std::string trace_stats_text(const TraceStats& stats);
// Each expert's tokens over the layer's mean (all 0 for an empty layer): the heat map's value
// (sim/draw/heatmap.hpp draws it).
std::vector<double> load_over_mean(const LayerStats& layer);

}  // namespace moesim::sim
