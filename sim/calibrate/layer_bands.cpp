#include "sim/calibrate/layer_bands.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

#include "sim/calibrate/fit.hpp"

namespace moesim::sim {
namespace {

constexpr double kCoveredShare = 0.9;

// The value at or above `share` of `values` (the rank-th smallest: nth_element, not a sort, as the
// band tries one candidate a record), 0 when empty.
double quantile_at_or_above(std::vector<double> values, double share) {
  if (values.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(share * static_cast<double>(values.size())));
  const auto at = values.begin() + static_cast<std::ptrdiff_t>(std::max<std::size_t>(rank, 1) - 1);
  std::nth_element(values.begin(), at, values.end());
  return *at;
}

// The smallest floor that, with this relative part, covers 90% of the records.
double floor_covering(const std::vector<HeldOutError>& usable, double relative) {
  std::vector<double> floors;
  for (const auto& e : usable) {
    const double error = e.error_ms / e.measured_ms;
    const double excess = error * error - relative * relative;
    floors.push_back(excess > 0 ? e.predicted_ms * std::sqrt(excess) : 0.0);
  }
  return quantile_at_or_above(floors, kCoveredShare);
}

double mean_width(const std::vector<HeldOutError>& errors, const LayerBand& band) {
  double sum = 0;
  for (const auto& e : errors) sum += band.at(e.predicted_ms);
  return sum / static_cast<double>(errors.size());
}

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
  // then covers 90% of the records. The narrowest wins; ties keep the smaller relative part.
  std::vector<double> candidates = {0};
  for (const auto& e : usable) candidates.push_back(std::abs(e.error_ms) / e.measured_ms);
  std::sort(candidates.begin(), candidates.end());
  // Each candidate costs a pass over the records, so blocks of them that cannot win are skipped:
  // the floor only falls as the relative part grows, so the block's last floor with its first
  // relative part bounds every width in it from below (each step of the width is monotonic, so
  // the computed bound is below the computed widths too).
  const std::size_t count = candidates.size();
  const std::size_t block = std::max<std::size_t>(1, static_cast<std::size_t>(std::sqrt(count)));
  std::vector<LayerBand> bands(count);
  std::vector<double> widths(count, -1);  // -1: not computed
  const auto try_candidate = [&](std::size_t i) {
    bands[i] = {floor_covering(usable, candidates[i]), candidates[i]};
    widths[i] = mean_width(usable, bands[i]);
  };
  double best_width = std::numeric_limits<double>::infinity();
  for (std::size_t last = block - 1; last < count + block - 1; last += block) {
    try_candidate(std::min(last, count - 1));
    best_width = std::min(best_width, widths[std::min(last, count - 1)]);
  }
  for (std::size_t first = 0; first < count; first += block) {
    const std::size_t last = std::min(first + block, count) - 1;
    if (mean_width(usable, {bands[last].floor_ms, candidates[first]}) > best_width) continue;
    for (std::size_t i = first; i < last; ++i) {
      try_candidate(i);
      best_width = std::min(best_width, widths[i]);
    }
  }
  std::size_t best = 0;  // the first of the narrowest; the first band when every width is NaN
  while (best < widths.size() && widths[best] != best_width) ++best;
  return bands[best < widths.size() ? best : 0];
}

OffsetGroup offset_group(const TimingRecord& r) { return {r.shape_key(), r.work.ranks}; }

std::vector<ShapeOffset> fit_shape_offsets(const CalibratedPhases& curves,
                                           const std::vector<const TimingRecord*>& records) {
  std::map<OffsetGroup, std::vector<const TimingRecord*>> groups;
  for (const TimingRecord* r : records)
    if (r->measured_layer_ms() > 0) groups[offset_group(*r)].push_back(r);
  std::vector<ShapeOffset> offsets;
  // One record alone would be fitted exactly, and leave-one-record-out could not check it.
  for (const auto& entry : groups)
    if (entry.second.size() >= 2) offsets.push_back(offset_of(curves, entry.second));
  return offsets;
}

}  // namespace moesim::sim
