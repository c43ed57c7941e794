#include "sim/calibrate/layer_bands.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "sim/calibrate/fit.hpp"

namespace moesim::sim {
namespace {

constexpr double kCoveredShare = 0.9;

// The value at or above `share` of `values` (sorted copy), 0 when empty.
double quantile_at_or_above(std::vector<double> values, double share) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(share * static_cast<double>(values.size())));
  return values[std::max<std::size_t>(rank, 1) - 1];
}

double mean_width(const std::vector<HeldOutError>& errors, const LayerBand& band) {
  double sum = 0;
  for (const auto& e : errors) sum += band.at(e.predicted_ms);
  return sum / static_cast<double>(errors.size());
}

using GroupKey = std::tuple<std::string, int>;
GroupKey group_of(const TimingRecord& r) { return {r.shape_key(), r.work.ranks}; }

ShapeOffset offset_of(const CalibratedPhases& curves,
                      const std::vector<const TimingRecord*>& group) {
  ShapeOffset offset;
  offset.shape = group.front()->shape;
  offset.ranks = group.front()->work.ranks;
  offset.records = static_cast<int>(group.size());
  double weighted_residuals = 0;
  double weights = 0;
  for (const TimingRecord* r : group) {
    const double measured = r->measured_layer_ms();
    const double predicted = estimate_record(curves, *r).layer_ms;
    weighted_residuals += (measured - predicted) / (measured * measured);
    weights += 1 / (measured * measured);
  }
  offset.offset_ms = weighted_residuals / weights;
  return offset;
}

}  // namespace

LayerBand fit_layer_band(const std::vector<HeldOutError>& errors) {
  std::vector<HeldOutError> usable;
  for (const auto& e : errors)
    if (e.predicted_ms > 0 && e.measured_ms > 0) usable.push_back(e);
  if (usable.empty()) return {};
  // A record is covered when its error relative to the measured time, as --check reports it, is
  // within the band at its prediction p: (e/m)^2 <= (floor/p)^2 + relative^2. Candidate relative
  // parts: none, or exactly one record's relative error; for each, the floor is the smallest that
  // then covers 90% of the records.
  std::vector<double> candidates = {0};
  for (const auto& e : usable) candidates.push_back(std::abs(e.error_ms) / e.measured_ms);
  std::sort(candidates.begin(), candidates.end());
  LayerBand best;
  double best_width = -1;
  for (double relative : candidates) {
    std::vector<double> floors;
    for (const auto& e : usable) {
      const double error = e.error_ms / e.measured_ms;
      const double excess = error * error - relative * relative;
      floors.push_back(excess > 0 ? e.predicted_ms * std::sqrt(excess) : 0.0);
    }
    const LayerBand band{quantile_at_or_above(floors, kCoveredShare), relative};
    const double width = mean_width(usable, band);
    if (best_width < 0 || width < best_width) {  // ties keep the smaller relative part
      best = band;
      best_width = width;
    }
  }
  return best;
}

std::vector<ShapeOffset> fit_shape_offsets(const CalibratedPhases& curves,
                                           const std::vector<const TimingRecord*>& records) {
  std::map<GroupKey, std::vector<const TimingRecord*>> groups;
  for (const TimingRecord* r : records)
    if (r->measured_layer_ms() > 0) groups[group_of(*r)].push_back(r);
  std::vector<ShapeOffset> offsets;
  // One record alone would be fitted exactly, and leave-one-record-out could not check it.
  for (const auto& entry : groups)
    if (entry.second.size() >= 2) offsets.push_back(offset_of(curves, entry.second));
  return offsets;
}

std::vector<HeldOutError> leave_one_record_out(const std::vector<const TimingRecord*>& records,
                                               const CalibratedPhases& chosen) {
  std::vector<HeldOutError> errors;
  for (const TimingRecord* left_out : records) {
    std::vector<const TimingRecord*> training;
    std::vector<const TimingRecord*> same_group;
    for (const TimingRecord* r : records) {
      if (r == left_out) continue;
      training.push_back(r);
      if (group_of(*r) == group_of(*left_out) && r->measured_layer_ms() > 0)
        same_group.push_back(r);
    }
    if (same_group.empty() || !(left_out->measured_layer_ms() > 0)) continue;
    CalibratedPhases unseen = fit_with_knees(training, chosen.curves);
    unseen.offsets = {offset_of(unseen, same_group)};
    const double predicted = estimate_record(unseen, *left_out).layer_ms;
    errors.push_back(
        {predicted, predicted - left_out->measured_layer_ms(), left_out->measured_layer_ms()});
  }
  return errors;
}

}  // namespace moesim::sim
