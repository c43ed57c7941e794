#pragma once
// A calibrated profile held against timings it was not fitted on: each record's layer predicted
// from the curves (as `moesim run` prices a layer), its error and whether the band covered it.
#include <array>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/calibrate/timings.hpp"
#include "sim/cost/phase_curves.hpp"

namespace moesim::sim {

struct HoldoutRow {
  std::string where;
  std::string case_name;
  int ranks = 1;
  int rank = 0;
  double measured_ms = 0;
  double predicted_ms = 0;
  double error = 0;  // (predicted - measured) / measured
  double band = 0;   // relative, as the prediction claims it
  double extrapolation = 0;
  // Per phase, predicted - measured (ms), where the record timed the phase and a curve priced it;
  // with the seen shape's offset (not in any phase) they say where a layer's error came from.
  std::array<std::optional<double>, kCalibratedPhaseCount> phase_error_ms;
  double offset_ms = 0;
};

struct HoldoutResult {
  std::vector<HoldoutRow> rows;
  double median_abs_error = 0;
  double worst_abs_error = 0;
  double coverage = 0;  // share of rows with |error| <= band
};

HoldoutResult check_calibration(const CalibratedPhases& phases,
                                const std::vector<TimingRecord>& records);
nlohmann::json to_json(const HoldoutResult& result);
// A markdown table, one row per record, then the summary line.
std::string holdout_table(const HoldoutResult& result);
// The `count` rows of largest |error| (ties in row order), each with its phases' errors in ms.
std::string worst_rows_table(const HoldoutResult& result, std::size_t count);

}  // namespace moesim::sim
