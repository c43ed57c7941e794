#pragma once
// Fits per-phase cost curves to recorded timings (docs/calibrate.md): non-negative least squares
// over each phase's physical features, rows weighted by their layer's time (an error counts as the
// share of the layer it spoils, so a 20 us phase cannot dominate), the expert knee chosen by
// leave-one-shape-out error, and that error measured per phase and for whole layers.
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/calibrate/timings.hpp"
#include "sim/cost/phase_curves.hpp"

namespace moesim::sim {

// Tokens per expert below which an expert costs its weight read, tried for the expert curve.
inline const std::vector<double> kKneeGrid = {0, 8, 16, 32, 64, 128, 256, 512};
// The least FLOPs an active expert is charged, tried for the expert curve: 0 (none), then doublings
// from 2e8 to 1.6e12, which at H200 rates spans host launch times of about 0.3 us to 3 ms.
std::vector<double> launch_floor_grid();
// Tile heights tried for the expert curve: 0 (rows priced as they are), then the row tiles grouped
// GEMM kernels use; a tiled kernel computes its last tile whole (docs/calibrate.md).
inline const std::vector<double> kTileRowsGrid = {0, 16, 32, 64, 128, 256};

// The records a phase is fitted to: those that timed it (and, for dispatch and combine, ran on
// more than one rank).
std::vector<const TimingRecord*> phase_records(CalibratedPhase phase,
                                               const std::vector<const TimingRecord*>& records);
// The curve fitted to all of `records` with this knee, launch floor and tile; its leave-one-out
// fields left 0.
PhaseCurve fit_phase(CalibratedPhase phase, const std::vector<const TimingRecord*>& records,
                     double knee_tokens, double launch_floor_flops = 0, double tile_rows = 0);

struct LeaveOneOut {
  std::vector<double> relative_errors;  // (predicted - measured) / measured, measured > 0
  double layer_weighted_rms = 0;        // of (predicted - measured) / layer time: the knee score
};
// Each shape predicted by a fit to the other shapes (every record alone when all shapes differ).
LeaveOneOut leave_one_shape_out(CalibratedPhase phase,
                                const std::vector<const TimingRecord*>& records, double knee_tokens,
                                double launch_floor_flops = 0, double tile_rows = 0);

// For each group of `records` (indices), the curves of `chosen` (knees, launch floors and tiles
// kept) fitted to the other groups' records, as fit_with_knees fits them; a curve whose phase the
// other groups never timed is left out.
std::vector<CalibratedPhases> curves_without_each(
    const std::vector<const TimingRecord*>& records,
    const std::vector<std::vector<std::size_t>>& groups, const std::vector<PhaseCurve>& chosen);

double root_mean_square(const std::vector<double>& values);
// The smallest |value| that at least 90% of |values| do not exceed (0 when empty).
double abs_percentile_90(const std::vector<double>& values);
double abs_median(const std::vector<double>& values);

// All phases of `chosen` fitted to `records` with their knees, launch floors and tiles kept (for
// held-out predictions).
CalibratedPhases fit_with_knees(const std::vector<const TimingRecord*>& records,
                                const std::vector<PhaseCurve>& chosen);

// What a phase's curve is fitted to: the measured time, except that a combine sheds its wait for a
// slower rank's experts (slowest experts - this rank's), which the layer's experts carry instead.
double phase_target_ms(CalibratedPhase phase, const TimingRecord& r);
// A record's layer as `moesim run` prices it: at EP > 1 with its ranks linked, the slowest rank's
// predicted experts replace this rank's.
LayerEstimate estimate_record(const CalibratedPhases& phases, const TimingRecord& r);

// Every phase the records timed, fitted (their ranks linked first, link_ranks); records must share
// one stack and one device.
CalibratedPhases calibrate_phases(const std::vector<TimingRecord>& records);

// The fit's residuals, for the profile: per phase, (fitted - measured) / measured of each record
// it was fitted to, in record order; {"gate": [...], ...}.
nlohmann::json relative_residuals(const CalibratedPhases& phases,
                                  const std::vector<TimingRecord>& records);

}  // namespace moesim::sim
