#pragma once
// Per-phase cost curves that `moesim calibrate` fits to timings recorded on any stack
// (docs/calibrate.md). A phase's time is a non-negative combination of physical features of the
// layer's shape and its tokens (a floor, bytes moved, FLOPs, active experts), so one fit prices
// shapes it never saw. Each curve carries its leave-one-shape-out error and the feature ranges it
// saw; together they give every prediction an error band (docs/accuracy.md).
#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace moesim {
class ProblemList;
}

namespace moesim::sim {

enum class CalibratedPhase { Gate, Permute, Dispatch, Experts, Combine, Unpermute, Dense };
inline constexpr std::array<std::string_view, 7> kCalibratedPhaseNames = {
    "gate", "permute", "dispatch", "experts", "combine", "unpermute", "dense"};
inline constexpr std::size_t kCalibratedPhaseCount = kCalibratedPhaseNames.size();
std::string_view phase_name(CalibratedPhase phase);

// The shape a layer's phases depend on.
struct LayerShape {
  double hidden = 0;
  double expert_ffn = 0;
  double experts = 0;
  double top_k = 0;
  bool gated = true;            // SwiGLU: three matrices per expert, else two
  double activation_bytes = 2;  // per element of the tokens moved
  double weight_bytes = 2;      // per expert weight
};

// One rank's work in one layer.
struct RankWork {
  double tokens = 0;                            // tokens entering the layer on this rank
  std::vector<double> tokens_per_local_expert;  // token copies each local expert computes
  int ranks = 1;                                // expert-parallel group size
};

// The names of a phase's features, in coefficient order.
std::vector<std::string_view> feature_names(CalibratedPhase phase);
// The features' values; `knee_tokens`: an expert with fewer tokens costs as if it had this many
// (its weight read, not its FLOPs, sets the time below the knee); `launch_floor_flops`: an active
// expert's FLOPs term is at least this (a per-expert loop's host launches hide the GPU work of a
// small expert, so it costs the launches whatever its size; 0: no floor); `tile_rows`: an expert's
// rows are computed in whole tiles of this height (a tiled grouped GEMM pads its last tile, so the
// FLOPs term is a staircase in the rows; 0: not tiled).
std::vector<double> phase_features(CalibratedPhase phase, const LayerShape& shape,
                                   const RankWork& work, double knee_tokens,
                                   double launch_floor_flops = 0, double tile_rows = 0);
// What the extrapolation distance is measured on: the shape and token variables, then features.
std::vector<std::pair<std::string, double>> range_variables(
    CalibratedPhase phase, const LayerShape& shape, const RankWork& work, double knee_tokens,
    double launch_floor_flops = 0, double tile_rows = 0);

struct FeatureRange {
  std::string name;
  double min = 0;
  double max = 0;
};

struct PhaseCurve {
  CalibratedPhase phase = CalibratedPhase::Gate;
  std::vector<double> coefficients;  // ms per unit of each feature_names(phase) entry, >= 0
  double knee_tokens = 0;
  double launch_floor_flops = 0;  // experts: the least FLOPs an active expert is charged
  double tile_rows = 0;           // experts: rows priced in whole tiles of this height (0: none)
  int records = 0;
  double fit_rms = 0;  // relative error on the records it was fitted to
  double loo_rms = 0;  // relative error predicting each shape from a fit without it
  double loo_p90 = 0;  // 90th percentile of |that error|: the phase's band
  std::vector<FeatureRange> ranges;
};

// A layer's error band before extrapolation: an absolute part (host overhead that varies by a
// fixed amount, whatever the layer's size) and a relative part, combined in quadrature, so small
// host-bound layers get a wider relative band than large GPU-bound ones (docs/accuracy.md).
struct LayerBand {
  double floor_ms = 0;
  double relative = 0;
  // The relative band of a layer predicted at `predicted_ms`.
  double at(double predicted_ms) const;
};

// What the curves missed on one calibrated shape at one EP size: the mean of its records'
// whole-layer residuals (measured - predicted, ms). A layer of exactly that shape and EP size is
// predicted with it added; any other shape without (docs/calibrate.md, "seen shapes").
struct ShapeOffset {
  LayerShape shape;
  int ranks = 1;
  int records = 0;
  double offset_ms = 0;
  bool matches(const LayerShape& other, int other_ranks) const;
};

struct CalibratedPhases {
  std::string stack;
  std::string device;
  int records = 0;
  int shapes = 0;
  double layer_loo_median = 0;  // whole-layer |relative error|, each shape predicted unseen
  double layer_loo_p90 = 0;     // its 90th percentile: the band of a layer inside the ranges
  // Bands fitted to those held-out errors (unseen shapes) and to leave-one-record-out errors with
  // the shape's offset (seen shapes); zero when the profile predates them (layer_loo_p90 serves).
  LayerBand unseen_band;
  LayerBand seen_band;
  double seen_loo_median = 0;  // whole-layer |relative error|, each record predicted unseen
  std::vector<ShapeOffset> offsets;
  std::vector<PhaseCurve> curves;
  const PhaseCurve* curve(CalibratedPhase phase) const;
  const ShapeOffset* offset(const LayerShape& shape, int ranks) const;
};

// Milliseconds the curve predicts for this rank's work.
double curve_ms(const PhaseCurve& curve, const LayerShape& shape, const RankWork& work);
// How far outside the ranges it was fitted on: the largest log2 ratio past a range's end, 0 inside.
double extrapolation(const PhaseCurve& curve, const LayerShape& shape, const RankWork& work);
// The relative band: base x (1 + extrapolation), docs/accuracy.md.
inline double widened_band(double base, double distance) { return base * (1 + distance); }

// One rank's layer from the curves: each phase it has a curve for, summed. `peak_experts_ms`, when
// positive, replaces this rank's expert time (a layer waits for its slowest rank).
struct LayerEstimate {
  std::array<double, kCalibratedPhaseCount> phase_ms{};
  std::array<bool, kCalibratedPhaseCount> priced{};
  double layer_ms = 0;       // the phases plus the shape's offset
  double offset_ms = 0;      // the seen shape's offset, included in layer_ms (0 when unseen)
  double band = 0;           // relative, whole layer
  double extrapolation = 0;  // the largest over its phases
};
LayerEstimate estimate_layer(const CalibratedPhases& phases, const LayerShape& shape,
                             const RankWork& work, double peak_experts_ms = 0);

// A MoE layer priced from the curves as the simulator plays it: every GPU gets the tokens per GPU,
// its own experts' token counts, and the EP size. Seconds; a phase without a curve stays unset.
struct CalibratedLayer {
  std::array<std::optional<double>, kCalibratedPhaseCount> phase_s;
  std::vector<double> gpu_experts_s;  // per GPU, when there is an expert curve
  double band = 0;                    // relative, for the priced phases together
};
CalibratedLayer price_calibrated_layer(const CalibratedPhases& phases, const LayerShape& shape,
                                       double tokens_per_gpu,
                                       const std::vector<std::vector<double>>& local_tokens);

nlohmann::json to_json(const CalibratedPhases& phases);
// Reads the "calibrated_phases" section at `pointer`; problems name their JSON pointers.
CalibratedPhases read_calibrated_phases(const nlohmann::json& document, const std::string& pointer,
                                        ProblemList& problems);

}  // namespace moesim::sim
