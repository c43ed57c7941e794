#pragma once
// One phase's least-squares rows (fit_phase's: features and target over the layer's time) and the
// fits that leave each group of them out, from QR-compressed blocks (compressed_rows.hpp): the
// leave-one-out errors of calibrate cost one small merge and fit a group, not a refit of all rows.
#include <Eigen/Dense>
#include <cstddef>
#include <vector>

#include "sim/calibrate/timings.hpp"
#include "sim/cost/phase_curves.hpp"

namespace moesim::sim {

struct PhaseRows {
  std::vector<std::vector<double>> features;  // each record's, unweighted (as curve_ms reads them)
  Eigen::MatrixXd a;                          // the features over the record's layer time
  Eigen::VectorXd b;                          // phase_target_ms over the layer time
};

// The rows of `records` for `phase` at this knee, launch floor and tile.
PhaseRows phase_rows(CalibratedPhase phase, const std::vector<const TimingRecord*>& records,
                     double knee_tokens, double launch_floor_flops, double tile_rows);

// coefficients . features, summed in curve_ms's order (so a curve's own prediction is repeated
// bit for bit).
double predicted_ms(const std::vector<double>& coefficients, const std::vector<double>& features);

// The coefficients fitted to all the rows: the fit each one left out in closed form starts from.
std::vector<double> fit_all_rows(const PhaseRows& rows);

// For each group (indices of rows), the coefficients fitted to the rows of every other group, as
// fit_phase fits them; empty where the other groups hold no row.
std::vector<std::vector<double>> fits_leaving_each_out(
    const PhaseRows& rows, const std::vector<std::vector<std::size_t>>& groups);

// A curve of `like`'s phase, knee, launch floor and tile with these coefficients (no ranges, no
// errors: what a held-out prediction needs).
PhaseCurve curve_with(const PhaseCurve& like, std::vector<double> coefficients);

}  // namespace moesim::sim
