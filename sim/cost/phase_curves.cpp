#include "sim/cost/phase_curves.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "base/config_error.hpp"
#include "base/strict_json.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

struct Quantities {  // what every phase's features are made of
  double tokens, copies, copy_bytes, multi_rank, active, expert_flops, weight_bytes, remote_bytes;
};

Quantities quantities(const LayerShape& s, const RankWork& w, double knee_tokens,
                      double launch_floor_flops, double tile_rows) {
  Quantities q{};
  q.tokens = w.tokens;
  q.copies = w.tokens * s.top_k;
  q.copy_bytes = q.copies * s.hidden * s.activation_bytes;
  q.multi_rank = w.ranks > 1 ? 1.0 : 0.0;
  // Each rank sends (R-1)/R of its copies away on average and receives as many.
  q.remote_bytes = w.ranks > 1 ? q.copy_bytes * (w.ranks - 1) / w.ranks : 0.0;
  const double params = (s.gated ? 3.0 : 2.0) * s.hidden * s.expert_ffn;
  for (double n : w.tokens_per_local_expert) {
    if (n <= 0) continue;  // an idle expert launches nothing and reads no weights
    q.active += 1;
    const double rows = tile_rows > 0 ? tile_rows * std::ceil(n / tile_rows) : n;
    q.expert_flops += std::max(2 * params * std::max(rows, knee_tokens), launch_floor_flops);
  }
  q.weight_bytes = q.active * params * s.weight_bytes;
  return q;
}

double routed_tokens(const RankWork& w) {
  double total = 0;
  for (double n : w.tokens_per_local_expert) total += n;
  return total;
}

}  // namespace

std::string_view phase_name(CalibratedPhase phase) {
  return kCalibratedPhaseNames[static_cast<std::size_t>(phase)];
}

std::vector<std::string_view> feature_names(CalibratedPhase phase) {
  switch (phase) {
    case CalibratedPhase::Gate:
      return {"one", "token_elements", "gate_macs", "multi_rank"};
    case CalibratedPhase::Permute:
    case CalibratedPhase::Unpermute:
      return {"one", "copies", "copy_bytes", "multi_rank", "multi_rank_copy_bytes"};
    case CalibratedPhase::Dispatch:
    case CalibratedPhase::Combine:
      return {"one", "remote_bytes"};
    case CalibratedPhase::Experts:
      return {"one", "active_experts", "expert_flops", "weight_bytes"};
    case CalibratedPhase::Dense:
      return {"one", "tokens", "token_elements"};
  }
  return {};
}

std::vector<double> phase_features(CalibratedPhase phase, const LayerShape& s, const RankWork& w,
                                   double knee_tokens, double launch_floor_flops,
                                   double tile_rows) {
  const Quantities q = quantities(s, w, knee_tokens, launch_floor_flops, tile_rows);
  switch (phase) {
    case CalibratedPhase::Gate:
      return {1, q.tokens * s.hidden, q.tokens * s.hidden * s.experts, q.multi_rank};
    case CalibratedPhase::Permute:
    case CalibratedPhase::Unpermute:
      return {1, q.copies, q.copy_bytes, q.multi_rank, q.multi_rank * q.copy_bytes};
    case CalibratedPhase::Dispatch:
    case CalibratedPhase::Combine:
      return {1, q.remote_bytes};
    case CalibratedPhase::Experts:
      return {1, q.active, q.expert_flops, q.weight_bytes};
    case CalibratedPhase::Dense:
      return {1, q.tokens, q.tokens * s.hidden};
  }
  return {};
}

std::vector<std::pair<std::string, double>> range_variables(CalibratedPhase phase,
                                                            const LayerShape& s, const RankWork& w,
                                                            double knee_tokens,
                                                            double launch_floor_flops,
                                                            double tile_rows) {
  std::vector<std::pair<std::string, double>> values = {
      {"tokens", w.tokens},
      {"hidden", s.hidden},
      {"expert_ffn", s.expert_ffn},
      {"experts", s.experts},
      {"top_k", s.top_k},
      {"ranks", static_cast<double>(w.ranks)},
      {"activation_bytes", s.activation_bytes},
      {"weight_bytes_per_element", s.weight_bytes}};
  if (phase == CalibratedPhase::Experts) {
    const Quantities q = quantities(s, w, 0, 0, 0);
    values.emplace_back("tokens_per_active_expert", q.active > 0 ? routed_tokens(w) / q.active : 0);
  }
  const auto names = feature_names(phase);
  const auto features = phase_features(phase, s, w, knee_tokens, launch_floor_flops, tile_rows);
  // "one" and the 0/1 multi_rank flag carry no scale; "ranks" already covers the flag.
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] != "one" && names[i] != "multi_rank")
      values.emplace_back(std::string(names[i]), features[i]);
  return values;
}

double LayerBand::at(double predicted_ms) const {
  if (!(predicted_ms > 0)) return relative;
  const double floor_share = floor_ms / predicted_ms;
  return std::sqrt(floor_share * floor_share + relative * relative);
}

bool ShapeOffset::matches(const LayerShape& o, int other_ranks) const {
  return ranks == other_ranks && shape.hidden == o.hidden && shape.expert_ffn == o.expert_ffn &&
         shape.experts == o.experts && shape.top_k == o.top_k && shape.gated == o.gated &&
         shape.activation_bytes == o.activation_bytes && shape.weight_bytes == o.weight_bytes;
}

const ShapeOffset* CalibratedPhases::offset(const LayerShape& shape, int ranks) const {
  for (const auto& o : offsets)
    if (o.matches(shape, ranks)) return &o;
  return nullptr;
}

const PhaseCurve* CalibratedPhases::curve(CalibratedPhase phase) const {
  for (const auto& c : curves)
    if (c.phase == phase) return &c;
  return nullptr;
}

double curve_ms(const PhaseCurve& curve, const LayerShape& shape, const RankWork& work) {
  const auto features = phase_features(curve.phase, shape, work, curve.knee_tokens,
                                       curve.launch_floor_flops, curve.tile_rows);
  double ms = 0;
  for (std::size_t i = 0; i < features.size() && i < curve.coefficients.size(); ++i)
    ms += curve.coefficients[i] * features[i];
  return ms;
}

double extrapolation(const PhaseCurve& curve, const LayerShape& shape, const RankWork& work) {
  double distance = 0;
  for (const auto& variable : range_variables(curve.phase, shape, work, curve.knee_tokens,
                                              curve.launch_floor_flops, curve.tile_rows)) {
    // (named copies: clang cannot capture structured bindings in the lambda below)
    const std::string& name = variable.first;
    const double value = variable.second;
    const auto range = std::find_if(curve.ranges.begin(), curve.ranges.end(),
                                    [&](const FeatureRange& r) { return r.name == name; });
    if (range == curve.ranges.end() || value <= 0) continue;
    // A quantity the fit only ever saw at 0 (EP > 1 terms of an EP = 1 fit): unknown, one doubling.
    if (range->max <= 0)
      distance = std::max(distance, 1.0);
    else if (value > range->max)
      distance = std::max(distance, std::log2(value / range->max));
    else if (range->min > 0 && value < range->min)
      distance = std::max(distance, std::log2(range->min / value));
  }
  return distance;
}

LayerEstimate estimate_layer(const CalibratedPhases& phases, const LayerShape& shape,
                             const RankWork& work, double peak_experts_ms) {
  LayerEstimate estimate;
  double weighted_band = 0;
  for (const auto& curve : phases.curves) {
    const bool collective =
        curve.phase == CalibratedPhase::Dispatch || curve.phase == CalibratedPhase::Combine;
    if (collective && work.ranks < 2) continue;  // one rank exchanges nothing
    const auto index = static_cast<std::size_t>(curve.phase);
    double ms = curve_ms(curve, shape, work);
    if (curve.phase == CalibratedPhase::Experts && peak_experts_ms > 0) ms = peak_experts_ms;
    estimate.phase_ms[index] = ms;
    estimate.priced[index] = true;
    estimate.layer_ms += ms;
    estimate.extrapolation = std::max(estimate.extrapolation, extrapolation(curve, shape, work));
    weighted_band += curve.loo_p90 * ms;
  }
  // A seen shape's offset is host overhead the curves missed: it joins the layer unless it would
  // leave no time for the phases outside the experts (then the shape is priced as unseen).
  const double outside_experts =
      estimate.layer_ms - estimate.phase_ms[static_cast<std::size_t>(CalibratedPhase::Experts)];
  const ShapeOffset* seen = phases.offset(shape, work.ranks);
  if (seen != nullptr && outside_experts + seen->offset_ms > 0) {
    estimate.offset_ms = seen->offset_ms;
    estimate.layer_ms += seen->offset_ms;
  } else {
    seen = nullptr;
  }
  // The fitted bands when the profile has them; else the whole-layer leave-one-shape-out error;
  // else the phases'.
  const LayerBand& fitted = seen != nullptr ? phases.seen_band : phases.unseen_band;
  const double base = fitted.relative > 0 || fitted.floor_ms > 0 ? fitted.at(estimate.layer_ms)
                      : phases.layer_loo_p90 > 0                 ? phases.layer_loo_p90
                      : estimate.layer_ms > 0                    ? weighted_band / estimate.layer_ms
                                                                 : 0.0;
  estimate.band = widened_band(base, estimate.extrapolation);
  return estimate;
}

CalibratedLayer price_calibrated_layer(const CalibratedPhases& phases, const LayerShape& shape,
                                       double tokens_per_gpu,
                                       const std::vector<std::vector<double>>& local_tokens) {
  CalibratedLayer layer;
  const int ranks = static_cast<int>(local_tokens.size());
  double peak_ms = 0;
  std::size_t slowest = 0;
  for (std::size_t g = 0; g < local_tokens.size(); ++g) {
    const RankWork work{tokens_per_gpu, local_tokens[g], ranks};
    if (const PhaseCurve* experts = phases.curve(CalibratedPhase::Experts)) {
      layer.gpu_experts_s.push_back(curve_ms(*experts, shape, work) * 1e-3);
      if (layer.gpu_experts_s.back() * 1e3 > peak_ms) {
        peak_ms = layer.gpu_experts_s.back() * 1e3;
        slowest = g;
      }
    }
  }
  // The slowest rank sets the layer: its experts, and its band.
  const RankWork work{tokens_per_gpu,
                      local_tokens.empty() ? std::vector<double>{} : local_tokens[slowest], ranks};
  const LayerEstimate estimate = estimate_layer(phases, shape, work, peak_ms);
  // A seen shape's offset is spread over the phases outside the experts, in proportion.
  const auto experts = static_cast<std::size_t>(CalibratedPhase::Experts);
  const double outside_experts =
      estimate.layer_ms - estimate.offset_ms - estimate.phase_ms[experts];
  const double scale =
      outside_experts > 0 ? (outside_experts + estimate.offset_ms) / outside_experts : 1.0;
  for (std::size_t p = 0; p < kCalibratedPhaseCount; ++p)
    if (estimate.priced[p])
      layer.phase_s[p] = estimate.phase_ms[p] * (p == experts ? 1.0 : scale) * 1e-3;
  layer.band = estimate.band;
  return layer;
}

Json to_json(const CalibratedPhases& p) {
  Json curves = Json::object();
  for (const auto& c : p.curves) {
    Json ranges = Json::object();
    for (const auto& r : c.ranges) ranges[r.name] = {r.min, r.max};
    std::vector<std::string> names;
    for (auto name : feature_names(c.phase)) names.emplace_back(name);
    curves[std::string(phase_name(c.phase))] = {
        {"features", names},
        {"coefficients_ms", c.coefficients},
        {"knee_tokens", c.knee_tokens},
        {"launch_floor_flops", c.launch_floor_flops},
        {"tile_rows", c.tile_rows},
        {"records", c.records},
        {"fit_rms_relative", c.fit_rms},
        {"leave_one_shape_out", {{"rms_relative", c.loo_rms}, {"p90_abs_relative", c.loo_p90}}},
        {"ranges", ranges}};
  }
  Json offsets = Json::array();
  for (const auto& o : p.offsets)
    offsets.push_back({{"shape",
                        {{"hidden", o.shape.hidden},
                         {"expert_ffn", o.shape.expert_ffn},
                         {"experts", o.shape.experts},
                         {"top_k", o.shape.top_k},
                         {"gated", o.shape.gated},
                         {"activation_bytes", o.shape.activation_bytes},
                         {"weight_bytes", o.shape.weight_bytes}}},
                       {"ranks", o.ranks},
                       {"records", o.records},
                       {"offset_ms", o.offset_ms}});
  const auto band = [](const LayerBand& b) {
    return Json{{"floor_ms", b.floor_ms}, {"relative", b.relative}};
  };
  return {{"stack", p.stack},
          {"device", p.device},
          {"records", p.records},
          {"shapes", p.shapes},
          {"layer_leave_one_shape_out",
           {{"median_abs_relative", p.layer_loo_median},
            {"p90_abs_relative", p.layer_loo_p90},
            {"band", band(p.unseen_band)}}},
          {"layer_leave_one_record_out",
           {{"median_abs_relative", p.seen_loo_median}, {"band", band(p.seen_band)}}},
          {"shape_offsets", offsets},
          {"phases", curves}};
}

}  // namespace moesim::sim
