#include "sim/calibrate/holdout.hpp"

#include <fmt/format.h>

#include <cmath>

#include "sim/calibrate/fit.hpp"

namespace moesim::sim {

HoldoutResult check_calibration(const CalibratedPhases& phases,
                                const std::vector<TimingRecord>& records) {
  HoldoutResult result;
  std::vector<double> errors;
  int covered = 0;
  for (const auto& r : records) {
    const double measured = r.measured_layer_ms();
    if (!(measured > 0)) continue;
    const LayerEstimate estimate = estimate_layer(phases, r.shape, r.work);
    HoldoutRow row{r.where,
                   r.case_name,
                   r.work.ranks,
                   r.rank,
                   measured,
                   estimate.layer_ms,
                   (estimate.layer_ms - measured) / measured,
                   estimate.band,
                   estimate.extrapolation};
    errors.push_back(row.error);
    if (std::abs(row.error) <= row.band) ++covered;
    result.rows.push_back(std::move(row));
  }
  result.median_abs_error = abs_median(errors);
  for (double e : errors) result.worst_abs_error = std::max(result.worst_abs_error, std::abs(e));
  result.coverage = errors.empty() ? 0 : static_cast<double>(covered) / errors.size();
  return result;
}

nlohmann::json to_json(const HoldoutResult& result) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : result.rows)
    rows.push_back({{"record", r.where},
                    {"case", r.case_name},
                    {"ranks", r.ranks},
                    {"rank", r.rank},
                    {"measured_ms", r.measured_ms},
                    {"predicted_ms", r.predicted_ms},
                    {"relative_error", r.error},
                    {"band", r.band},
                    {"extrapolation", r.extrapolation}});
  return {{"records", result.rows.size()},
          {"median_abs_relative_error", result.median_abs_error},
          {"worst_abs_relative_error", result.worst_abs_error},
          {"band_coverage", result.coverage},
          {"rows", rows}};
}

std::string holdout_table(const HoldoutResult& result) {
  std::string text =
      "| case | ranks | rank | measured ms | predicted ms | error | band |\n"
      "|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& r : result.rows)
    text += fmt::format("| {} | {} | {} | {:.3f} | {:.3f} | {:+.1f}% | ±{:.0f}% |\n",
                        r.case_name.empty() ? r.where : r.case_name, r.ranks, r.rank, r.measured_ms,
                        r.predicted_ms, 100 * r.error, 100 * r.band);
  text += fmt::format(
      "\n{} records: median |error| {:.1f}%, worst {:.1f}%, {:.0f}% inside their band\n",
      result.rows.size(), 100 * result.median_abs_error, 100 * result.worst_abs_error,
      100 * result.coverage);
  return text;
}

}  // namespace moesim::sim
