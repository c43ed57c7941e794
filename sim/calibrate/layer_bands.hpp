#pragma once
// Whole-layer error bands and seen-shape offsets for a calibrated profile (docs/accuracy.md, "How
// the band is computed"): the band is fitted to errors of records the fit did not see, and a shape
// that was calibrated carries the mean residual the curves left on it.
#include <string>
#include <tuple>
#include <vector>

#include "sim/calibrate/timings.hpp"
#include "sim/cost/phase_curves.hpp"

namespace moesim::sim {

struct HeldOutError {
  double predicted_ms = 0;
  double error_ms = 0;  // predicted - measured
  double measured_ms = 0;
};

// The narrowest band (smallest mean relative width) of the form sqrt((floor/p)^2 + relative^2), p
// the prediction, that holds at least 90% of `errors` relative to their measured times.
LayerBand fit_layer_band(const std::vector<HeldOutError>& errors);

// Per (shape, EP size) with 2 records or more in `records`, the offset that minimises the records'
// squared relative whole-layer error: sum(r_i / m_i^2) / sum(1 / m_i^2), r_i = measured -
// predicted, m_i = measured.
std::vector<ShapeOffset> fit_shape_offsets(const CalibratedPhases& curves,
                                           const std::vector<const TimingRecord*>& records);

// What shares one offset: the shape and the EP size.
using OffsetGroup = std::tuple<std::string, int>;
OffsetGroup offset_group(const TimingRecord& r);

}  // namespace moesim::sim
