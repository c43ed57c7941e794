#include "sim/calibrate/fit.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>

#include "sim/calibrate/layer_bands.hpp"
#include "sim/calibrate/nnls.hpp"
#include "sim/calibrate/phase_rows.hpp"
#include "sim/calibrate/record_holdout.hpp"

namespace moesim::sim {
namespace {

std::size_t index_of(CalibratedPhase phase) { return static_cast<std::size_t>(phase); }

// What is left out together, as indices into `records`: all records of one shape; with a single
// shape, each record alone.
std::vector<std::vector<std::size_t>> holdout_groups(
    const std::vector<const TimingRecord*>& records) {
  std::map<std::string, std::size_t> group_of;
  std::vector<std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto [it, added] = group_of.emplace(records[i]->shape_key(), groups.size());
    if (added) groups.emplace_back();
    groups[it->second].push_back(i);
  }
  if (groups.size() > 1) return groups;
  groups.clear();
  for (std::size_t i = 0; i < records.size(); ++i) groups.push_back({i});
  return groups;
}

void widen_ranges(PhaseCurve& curve, const TimingRecord& r) {
  for (const auto& variable : range_variables(curve.phase, r.shape, r.work, curve.knee_tokens,
                                              curve.launch_floor_flops, curve.tile_rows)) {
    // (named copies: clang cannot capture structured bindings in the lambda below)
    const std::string& name = variable.first;
    const double value = variable.second;
    auto range = std::find_if(curve.ranges.begin(), curve.ranges.end(),
                              [&](const FeatureRange& f) { return f.name == name; });
    if (range == curve.ranges.end()) {
      curve.ranges.push_back({name, value, value});
      continue;
    }
    range->min = std::min(range->min, value);
    range->max = std::max(range->max, value);
  }
}

}  // namespace

CalibratedPhases fit_with_knees(const std::vector<const TimingRecord*>& records,
                                const std::vector<PhaseCurve>& chosen) {
  CalibratedPhases phases;
  for (const auto& c : chosen) {
    const auto rows = phase_records(c.phase, records);
    if (!rows.empty())
      phases.curves.push_back(
          fit_phase(c.phase, rows, c.knee_tokens, c.launch_floor_flops, c.tile_rows));
  }
  return phases;
}

std::vector<const TimingRecord*> phase_records(CalibratedPhase phase,
                                               const std::vector<const TimingRecord*>& records) {
  const bool collective = phase == CalibratedPhase::Dispatch || phase == CalibratedPhase::Combine;
  std::vector<const TimingRecord*> rows;
  for (const TimingRecord* r : records)
    if (r->phase_ms[index_of(phase)] && (!collective || r->work.ranks > 1) &&
        r->measured_layer_ms() > 0)
      rows.push_back(r);
  return rows;
}

double phase_target_ms(CalibratedPhase phase, const TimingRecord& r) {
  const double measured = *r.phase_ms[index_of(phase)];
  const auto& experts = r.phase_ms[index_of(CalibratedPhase::Experts)];
  if (phase != CalibratedPhase::Combine || !r.slowest_experts_ms || !experts) return measured;
  return measured - (*r.slowest_experts_ms - *experts);
}

LayerEstimate estimate_record(const CalibratedPhases& phases, const TimingRecord& r) {
  double slowest_ms = 0;
  if (const PhaseCurve* experts = phases.curve(CalibratedPhase::Experts))
    for (const auto& histogram : r.rank_histograms)
      slowest_ms = std::max(slowest_ms,
                            curve_ms(*experts, r.shape, {r.work.tokens, histogram, r.work.ranks}));
  return estimate_layer(phases, r.shape, r.work, slowest_ms);
}

std::vector<double> launch_floor_grid() {
  std::vector<double> grid = {0};
  for (double flops = 2e8; flops <= 1.6e12; flops *= 2) grid.push_back(flops);
  return grid;
}

PhaseCurve fit_phase(CalibratedPhase phase, const std::vector<const TimingRecord*>& records,
                     double knee_tokens, double launch_floor_flops, double tile_rows) {
  PhaseCurve curve;
  curve.phase = phase;
  curve.knee_tokens = knee_tokens;
  curve.launch_floor_flops = launch_floor_flops;
  curve.tile_rows = tile_rows;
  curve.records = static_cast<int>(records.size());
  const auto columns = static_cast<Eigen::Index>(feature_names(phase).size());
  Eigen::MatrixXd a(static_cast<Eigen::Index>(records.size()), columns);
  Eigen::VectorXd b(a.rows());
  for (Eigen::Index i = 0; i < a.rows(); ++i) {
    const TimingRecord& r = *records[static_cast<std::size_t>(i)];
    const double weight = 1 / r.measured_layer_ms();
    const auto features =
        phase_features(phase, r.shape, r.work, knee_tokens, launch_floor_flops, tile_rows);
    for (Eigen::Index j = 0; j < columns; ++j)
      a(i, j) = features[static_cast<std::size_t>(j)] * weight;
    b(i) = phase_target_ms(phase, r) * weight;
    widen_ranges(curve, r);
  }
  // Unit-scaled columns, so one tolerance serves counts, bytes and FLOPs alike.
  Eigen::VectorXd scale = a.cwiseAbs().colwise().maxCoeff().transpose();
  for (Eigen::Index j = 0; j < columns; ++j)
    if (!(scale(j) > 0)) scale(j) = 1;
  const Eigen::VectorXd x = non_negative_least_squares(a * scale.cwiseInverse().asDiagonal(), b);
  curve.coefficients.resize(static_cast<std::size_t>(columns));
  for (Eigen::Index j = 0; j < columns; ++j)
    curve.coefficients[static_cast<std::size_t>(j)] = x(j) / scale(j);
  std::vector<double> errors;
  for (const TimingRecord* r : records) {
    const double measured = phase_target_ms(phase, *r);
    if (measured > 0) errors.push_back((curve_ms(curve, r->shape, r->work) - measured) / measured);
  }
  curve.fit_rms = root_mean_square(errors);
  return curve;
}

namespace {

// Each group of `records` predicted by a fit to the other groups.
LeaveOneOut leave_groups_out(CalibratedPhase phase, const std::vector<const TimingRecord*>& records,
                             const std::vector<std::vector<std::size_t>>& groups,
                             double knee_tokens, double launch_floor_flops, double tile_rows) {
  LeaveOneOut result;
  if (groups.size() < 2) return result;  // one record: nothing to fit it without
  const PhaseRows rows = phase_rows(phase, records, knee_tokens, launch_floor_flops, tile_rows);
  const auto fits = fits_leaving_each_out(rows, groups);
  std::vector<double> layer_shares;
  for (std::size_t g = 0; g < groups.size(); ++g)
    for (std::size_t i : groups[g]) {
      const TimingRecord& r = *records[i];
      const double measured = phase_target_ms(phase, r);
      const double error = predicted_ms(fits[g], rows.features[i]) - measured;
      if (measured > 0) result.relative_errors.push_back(error / measured);
      layer_shares.push_back(error / r.measured_layer_ms());
    }
  result.layer_weighted_rms = root_mean_square(layer_shares);
  return result;
}

}  // namespace

LeaveOneOut leave_one_shape_out(CalibratedPhase phase,
                                const std::vector<const TimingRecord*>& records, double knee_tokens,
                                double launch_floor_flops, double tile_rows) {
  return leave_groups_out(phase, records, holdout_groups(records), knee_tokens, launch_floor_flops,
                          tile_rows);
}

std::vector<CalibratedPhases> curves_without_each(
    const std::vector<const TimingRecord*>& records,
    const std::vector<std::vector<std::size_t>>& groups, const std::vector<PhaseCurve>& chosen) {
  std::vector<CalibratedPhases> fitted(groups.size());
  std::vector<std::size_t> group_of(records.size());
  for (std::size_t g = 0; g < groups.size(); ++g)
    for (std::size_t i : groups[g]) group_of[i] = g;
  for (const auto& curve : chosen) {
    // The phase's rows, and which of them each group holds.
    std::vector<const TimingRecord*> timed;
    std::vector<std::vector<std::size_t>> rows_of(groups.size());
    for (std::size_t i = 0; i < records.size(); ++i)
      if (!phase_records(curve.phase, {records[i]}).empty()) {
        rows_of[group_of[i]].push_back(timed.size());
        timed.push_back(records[i]);
      }
    const PhaseRows rows = phase_rows(curve.phase, timed, curve.knee_tokens,
                                      curve.launch_floor_flops, curve.tile_rows);
    const auto fits = fits_leaving_each_out(rows, rows_of);
    for (std::size_t g = 0; g < groups.size(); ++g)
      if (!fits[g].empty()) fitted[g].curves.push_back(curve_with(curve, fits[g]));
  }
  return fitted;
}

double root_mean_square(const std::vector<double>& values) {
  if (values.empty()) return 0;
  double sum = 0;
  for (double v : values) sum += v * v;
  return std::sqrt(sum / static_cast<double>(values.size()));
}

double abs_percentile_90(const std::vector<double>& values) {
  if (values.empty()) return 0;
  std::vector<double> sorted;
  for (double v : values) sorted.push_back(std::abs(v));
  std::sort(sorted.begin(), sorted.end());
  const auto rank = static_cast<std::size_t>(std::ceil(0.9 * static_cast<double>(sorted.size())));
  return sorted[std::max<std::size_t>(rank, 1) - 1];
}

double abs_median(const std::vector<double>& values) {
  if (values.empty()) return 0;
  std::vector<double> sorted;
  for (double v : values) sorted.push_back(std::abs(v));
  std::sort(sorted.begin(), sorted.end());
  const std::size_t mid = sorted.size() / 2;
  return sorted.size() % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

namespace {

// Whole layers: the band of unseen shapes from each shape predicted by curves fitted without it;
// the seen shapes' offsets, and their band from leave-one-record-out.
void fit_layer_bands(const std::vector<const TimingRecord*>& all, CalibratedPhases& phases) {
  std::vector<double> layer_errors;
  std::vector<HeldOutError> unseen_errors;
  const auto groups = holdout_groups(all);
  const auto unseen = groups.size() > 1 ? curves_without_each(all, groups, phases.curves)
                                        : std::vector<CalibratedPhases>{};
  for (std::size_t g = 0; g < unseen.size(); ++g)
    for (std::size_t i : groups[g]) {
      const double predicted = estimate_record(unseen[g], *all[i]).layer_ms;
      const double measured = all[i]->measured_layer_ms();
      layer_errors.push_back((predicted - measured) / measured);
      unseen_errors.push_back({predicted, predicted - measured, measured});
    }
  phases.layer_loo_median = abs_median(layer_errors);
  phases.layer_loo_p90 = abs_percentile_90(layer_errors);
  phases.unseen_band = fit_layer_band(unseen_errors);
  // Seen shapes: each record predicted by curves and an offset fitted without it.
  const auto seen_errors = leave_one_record_out(all, phases);
  std::vector<double> seen_relative;
  for (const auto& e : seen_errors) seen_relative.push_back(e.error_ms / e.measured_ms);
  phases.seen_loo_median = abs_median(seen_relative);
  phases.seen_band = fit_layer_band(seen_errors);
  phases.offsets = fit_shape_offsets(phases, all);
}

// The curve with the knee, launch floor and tile of smallest leave-one-shape-out error (only the
// expert curve has them). A later candidate (a larger knee, a floor, a tile) must do strictly
// better, so a tile has to beat every untiled curve: the data, not the grid order, asks for it.
PhaseCurve fit_best_candidate(CalibratedPhase phase, const std::vector<const TimingRecord*>& rows) {
  const bool experts = phase == CalibratedPhase::Experts;
  const std::vector<double> knees = experts ? kKneeGrid : std::vector<double>{0};
  const std::vector<double> floors = experts ? launch_floor_grid() : std::vector<double>{0};
  const std::vector<double> tiles = experts ? kTileRowsGrid : std::vector<double>{0};
  const auto groups = holdout_groups(rows);  // the same for every candidate
  LeaveOneOut best;
  PhaseCurve chosen;
  bool first = true;
  for (double tile : tiles)
    for (double floor : floors)
      for (double knee : knees) {
        LeaveOneOut trial = leave_groups_out(phase, rows, groups, knee, floor, tile);
        if (first || trial.layer_weighted_rms < best.layer_weighted_rms) {
          best = std::move(trial);
          chosen.knee_tokens = knee;
          chosen.launch_floor_flops = floor;
          chosen.tile_rows = tile;
          first = false;
        }
      }
  PhaseCurve curve =
      fit_phase(phase, rows, chosen.knee_tokens, chosen.launch_floor_flops, chosen.tile_rows);
  curve.loo_rms = root_mean_square(best.relative_errors);
  curve.loo_p90 = abs_percentile_90(best.relative_errors);
  return curve;
}

}  // namespace

CalibratedPhases calibrate_phases(const std::vector<TimingRecord>& given) {
  std::vector<TimingRecord> records = given;
  link_ranks(records);
  CalibratedPhases phases;
  std::vector<const TimingRecord*> all;
  std::set<std::string> shapes;
  for (const auto& r : records) {
    all.push_back(&r);
    shapes.insert(r.shape_key());
  }
  if (!records.empty()) {
    phases.stack = records.front().stack;
    phases.device = records.front().device;
  }
  phases.records = static_cast<int>(records.size());
  phases.shapes = static_cast<int>(shapes.size());
  for (std::size_t p = 0; p < kCalibratedPhaseCount; ++p) {
    const auto phase = static_cast<CalibratedPhase>(p);
    const auto rows = phase_records(phase, all);
    if (rows.empty()) continue;
    PhaseCurve curve = fit_best_candidate(phase, rows);
    phases.curves.push_back(std::move(curve));
  }
  fit_layer_bands(all, phases);
  return phases;
}

nlohmann::json relative_residuals(const CalibratedPhases& phases,
                                  const std::vector<TimingRecord>& records) {
  std::vector<const TimingRecord*> all;
  for (const auto& r : records) all.push_back(&r);
  nlohmann::json residuals = nlohmann::json::object();
  for (const auto& curve : phases.curves) {
    nlohmann::json values = nlohmann::json::array();
    for (const TimingRecord* r : phase_records(curve.phase, all)) {
      const double measured = *r->phase_ms[index_of(curve.phase)];
      values.push_back(measured > 0 ? (curve_ms(curve, r->shape, r->work) - measured) / measured
                                    : 0.0);
    }
    residuals[std::string(phase_name(curve.phase))] = std::move(values);
  }
  return residuals;
}

}  // namespace moesim::sim
