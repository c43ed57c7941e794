#include "sim/calibrate/phase_rows.hpp"

#include <utility>

#include "sim/calibrate/compressed_rows.hpp"
#include "sim/calibrate/fit.hpp"

namespace moesim::sim {

PhaseRows phase_rows(CalibratedPhase phase, const std::vector<const TimingRecord*>& records,
                     double knee_tokens, double launch_floor_flops, double tile_rows) {
  PhaseRows rows;
  const auto columns = static_cast<Eigen::Index>(feature_names(phase).size());
  rows.a.resize(static_cast<Eigen::Index>(records.size()), columns);
  rows.b.resize(rows.a.rows());
  for (Eigen::Index i = 0; i < rows.a.rows(); ++i) {
    const TimingRecord& r = *records[static_cast<std::size_t>(i)];
    const double weight = 1 / r.measured_layer_ms();
    rows.features.push_back(
        phase_features(phase, r.shape, r.work, knee_tokens, launch_floor_flops, tile_rows));
    for (Eigen::Index j = 0; j < columns; ++j)
      rows.a(i, j) = rows.features.back()[static_cast<std::size_t>(j)] * weight;
    rows.b(i) = phase_target_ms(phase, r) * weight;
  }
  return rows;
}

double predicted_ms(const std::vector<double>& coefficients, const std::vector<double>& features) {
  double ms = 0;
  for (std::size_t i = 0; i < features.size() && i < coefficients.size(); ++i)
    ms += coefficients[i] * features[i];
  return ms;
}

std::vector<double> fit_all_rows(const PhaseRows& rows) {
  return fit_compressed(compress_rows(rows.a, rows.b));
}

std::vector<std::vector<double>> fits_leaving_each_out(
    const PhaseRows& rows, const std::vector<std::vector<std::size_t>>& groups) {
  std::vector<std::vector<double>> fits(groups.size());
  if (groups.empty() || rows.a.rows() == 0) return fits;
  // The fit to every row: what a group without rows gets, and where a group of one row starts.
  const CompressedRows all = compress_rows(rows.a, rows.b);
  const std::vector<double> all_rows = fit_compressed(all);
  const LeaveOneRowOut one_out(all, all_rows);
  std::vector<bool> refit(groups.size(), false);
  bool any_refit = false;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (groups[g].empty()) {
      fits[g] = all_rows;
    } else if (groups[g].size() == 1 && all.rows > 1) {
      const auto i = static_cast<Eigen::Index>(groups[g].front());
      if (auto fit = one_out.without(rows.a.row(i), rows.b(i)))
        fits[g] = std::move(*fit);
      else
        refit[g] = any_refit = true;
    } else {
      refit[g] = any_refit = true;
    }
  }
  if (!any_refit) return fits;
  // The others: every other group's rows merged, fitted from where the fit to all rows ended.
  std::vector<CompressedRows> blocks;
  for (const auto& group : groups) {
    Eigen::MatrixXd a(static_cast<Eigen::Index>(group.size()), rows.a.cols());
    Eigen::VectorXd b(a.rows());
    for (std::size_t k = 0; k < group.size(); ++k) {
      a.row(static_cast<Eigen::Index>(k)) = rows.a.row(static_cast<Eigen::Index>(group[k]));
      b(static_cast<Eigen::Index>(k)) = rows.b(static_cast<Eigen::Index>(group[k]));
    }
    blocks.push_back(compress_rows(a, b));
  }
  std::vector<bool> kept;
  for (double c : all_rows) kept.push_back(c > 0);
  const auto others = all_but_each(blocks);
  for (std::size_t g = 0; g < groups.size(); ++g)
    if (refit[g] && !others[g].empty()) fits[g] = fit_compressed(others[g], kept);
  return fits;
}

PhaseCurve curve_with(const PhaseCurve& like, std::vector<double> coefficients) {
  PhaseCurve curve;
  curve.phase = like.phase;
  curve.knee_tokens = like.knee_tokens;
  curve.launch_floor_flops = like.launch_floor_flops;
  curve.tile_rows = like.tile_rows;
  curve.coefficients = std::move(coefficients);
  return curve;
}

}  // namespace moesim::sim
