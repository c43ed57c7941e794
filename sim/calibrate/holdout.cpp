#include "sim/calibrate/holdout.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "sim/calibrate/fit.hpp"

namespace moesim::sim {

HoldoutResult check_calibration(const CalibratedPhases& phases,
                                const std::vector<TimingRecord>& given) {
  std::vector<TimingRecord> records = given;
  link_ranks(records);
  HoldoutResult result;
  std::vector<double> errors;
  int covered = 0;
  for (const auto& r : records) {
    const double measured = r.measured_layer_ms();
    if (!(measured > 0)) continue;
    const LayerEstimate estimate = estimate_record(phases, r);
    HoldoutRow row{r.where,
                   r.case_name,
                   r.work.ranks,
                   r.rank,
                   measured,
                   estimate.layer_ms,
                   (estimate.layer_ms - measured) / measured,
                   estimate.band,
                   estimate.extrapolation,
                   {},
                   estimate.offset_ms};
    for (std::size_t p = 0; p < kCalibratedPhaseCount; ++p)
      if (estimate.priced[p] && r.phase_ms[p])
        row.phase_error_ms[p] = estimate.phase_ms[p] - *r.phase_ms[p];
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

std::string worst_rows_table(const HoldoutResult& result, std::size_t count) {
  std::vector<std::size_t> order(result.rows.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return std::abs(result.rows[a].error) > std::abs(result.rows[b].error);
  });
  order.resize(std::min(count, order.size()));
  std::string text = "| case | ranks | rank | measured ms | error |";
  for (auto name : kCalibratedPhaseNames) text += fmt::format(" {} ms |", name);
  text += " offset ms |\n|---|---:|---:|---:|---:|";
  for (std::size_t p = 0; p < kCalibratedPhaseCount; ++p) text += "---:|";
  text += "---:|\n";
  for (std::size_t i : order) {
    const HoldoutRow& r = result.rows[i];
    text += fmt::format("| {} | {} | {} | {:.3f} | {:+.1f}% |",
                        r.case_name.empty() ? r.where : r.case_name, r.ranks, r.rank, r.measured_ms,
                        100 * r.error);
    for (const auto& e : r.phase_error_ms)
      text += e ? fmt::format(" {:+.3f} |", *e) : std::string(" |");
    text += fmt::format(" {:+.3f} |\n", r.offset_ms);
  }
  return text;
}

}  // namespace moesim::sim
