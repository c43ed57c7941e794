#include "sim/calibrate/record_holdout.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "sim/calibrate/fit.hpp"
#include "sim/calibrate/phase_rows.hpp"

namespace moesim::sim {
namespace {

constexpr auto kExperts = static_cast<std::size_t>(CalibratedPhase::Experts);
constexpr double kUnbounded = std::numeric_limits<double>::infinity();

bool priced(CalibratedPhase phase, int ranks) {  // one rank exchanges nothing (estimate_layer)
  return ranks > 1 || (phase != CalibratedPhase::Dispatch && phase != CalibratedPhase::Combine);
}

// A record's features for each curve, and for the experts curve those of each linked rank's
// histogram: computed once, not once a record left out.
struct RecordFeatures {
  std::array<std::vector<double>, kCalibratedPhaseCount> own;
  std::vector<std::vector<double>> rank_histograms;
};

RecordFeatures record_features(const std::vector<PhaseCurve>& curves, const TimingRecord& r) {
  RecordFeatures f;
  for (const auto& c : curves) {
    f.own[static_cast<std::size_t>(c.phase)] =
        phase_features(c.phase, r.shape, r.work, c.knee_tokens, c.launch_floor_flops, c.tile_rows);
    if (c.phase != CalibratedPhase::Experts || !f.rank_histograms.empty()) continue;
    for (const auto& histogram : r.rank_histograms)
      f.rank_histograms.push_back(phase_features(c.phase, r.shape,
                                                 {r.work.tokens, histogram, r.work.ranks},
                                                 c.knee_tokens, c.launch_floor_flops, c.tile_rows));
  }
  return f;
}

// The experts features that price a record at the `reference` coefficients (its slowest rank's,
// or its own when no rank's time is positive), and how far the coefficients may move, in the
// largest step of one times its column's `scale`, before that could change (the margin to the next
// rank, or to zero, over the most any rank's time can move a unit step).
struct ExpertsTerm {
  const std::vector<double>* features = nullptr;
  double radius = kUnbounded;
};

// Whether two histograms' features differ in a column whose reference coefficient is not zero:
// where they differ only in columns at zero (a per-expert term the fit dropped), they stay tied.
bool differ_where_priced(const std::vector<double>& reference, const std::vector<double>& a,
                         const std::vector<double>& b) {
  for (std::size_t j = 0; j < reference.size(); ++j)
    if (reference[j] != 0 && a[j] != b[j]) return true;
  return false;
}

ExpertsTerm experts_term(const std::vector<double>& reference, const std::vector<double>& scale,
                         const RecordFeatures& f) {
  if (f.rank_histograms.empty()) return {&f.own[kExperts], kUnbounded};
  std::size_t slowest = 0;
  double top = -kUnbounded;
  for (std::size_t h = 0; h < f.rank_histograms.size(); ++h)
    if (const double ms = predicted_ms(reference, f.rank_histograms[h]); ms > top) {
      top = ms;
      slowest = h;
    }
  double second = -kUnbounded;
  for (const auto& histogram : f.rank_histograms)
    if (differ_where_priced(reference, histogram, f.rank_histograms[slowest]))
      second = std::max(second, predicted_ms(reference, histogram));
  const double margin = top > 0 ? std::min((top - second) / 2, top) : -top;
  double reach = 0;  // over the priced columns, the largest |feature| / scale
  for (std::size_t j = 0; j < scale.size(); ++j) {
    double largest = 0;
    for (const auto& histogram : f.rank_histograms)
      largest = std::max(largest, std::abs(histogram[j]));
    if (reference[j] != 0) reach += largest / scale[j];
  }
  return {top > 0 ? &f.rank_histograms[slowest] : &f.own[kExperts],
          reach > 0 ? margin / reach : kUnbounded};
}

// A group's sums for offsets linear in the curves' coefficients (w = 1 / m^2 for a measured layer
// time m): sum w, sum w m and per phase sum w f, the experts term as priced at the reference (the
// fit to every record). A record whose slowest rank could change under the coefficients of a fit
// without one record (its radius is small) is corrected one by one.
struct GroupSums {
  double weights = 0;
  double weighted_measured = 0;
  std::array<std::vector<double>, kCalibratedPhaseCount> weighted_features;
  std::vector<double> reference;  // the experts coefficients
  std::vector<double> scale;      // each experts column's largest |feature| in the group
  std::vector<std::pair<double, std::size_t>> by_radius;  // (radius, record), smallest first
};

GroupSums group_sums(const std::vector<const TimingRecord*>& records,
                     const std::vector<RecordFeatures>& features,
                     const std::vector<std::size_t>& group, const PhaseCurve* experts,
                     std::vector<const std::vector<double>*>& experts_of) {
  GroupSums sums;
  if (experts != nullptr) {
    sums.reference = experts->coefficients;
    sums.scale.assign(sums.reference.size(), 0.0);
    for (std::size_t i : group)
      for (const auto& histogram : features[i].rank_histograms)
        for (std::size_t j = 0; j < sums.scale.size(); ++j)
          sums.scale[j] = std::max(sums.scale[j], std::abs(histogram[j]));
    for (double& s : sums.scale) s = s > 0 ? s : 1;
  }
  for (std::size_t i : group) {
    const double measured = records[i]->measured_layer_ms();
    const double weight = 1 / (measured * measured);
    sums.weights += weight;
    sums.weighted_measured += weight * measured;
    const ExpertsTerm term = experts != nullptr
                                 ? experts_term(sums.reference, sums.scale, features[i])
                                 : ExpertsTerm{&features[i].own[kExperts], kUnbounded};
    if (term.radius < kUnbounded) sums.by_radius.emplace_back(term.radius, i);
    experts_of[i] = term.features;
    for (std::size_t p = 0; p < kCalibratedPhaseCount; ++p) {
      const auto& own = p == kExperts ? *term.features : features[i].own[p];
      auto& sum = sums.weighted_features[p];
      sum.resize(own.size(), 0.0);
      for (std::size_t j = 0; j < own.size(); ++j) sum[j] += weight * own[j];
    }
  }
  std::sort(sums.by_radius.begin(), sums.by_radius.end());
  return sums;
}

// For the records whose slowest rank may differ at `experts`' coefficients (radius within twice
// their largest scaled step from the reference: experts_term), w x (the linear experts term - the
// true one), the left-out record aside.
double slowest_rank_corrections(const PhaseCurve& experts, const GroupSums& sums,
                                const std::vector<const TimingRecord*>& records,
                                const std::vector<RecordFeatures>& features,
                                const std::vector<const std::vector<double>*>& experts_of,
                                std::size_t left_out) {
  // The radii hold while the columns at zero stay there (a fit without one record keeps the
  // reference's zeros unless it was refitted); past that every record is recomputed.
  double step = 0;
  for (std::size_t j = 0; j < sums.reference.size(); ++j)
    step =
        sums.reference[j] == 0 && experts.coefficients[j] != 0
            ? kUnbounded
            : std::max(step, std::abs(experts.coefficients[j] - sums.reference[j]) * sums.scale[j]);
  double correction = 0;
  for (const auto& [radius, i] : sums.by_radius) {
    if (radius > 2 * step) break;  // the rest keep their slowest rank
    if (i == left_out) continue;
    double slowest_ms = 0;
    for (const auto& histogram : features[i].rank_histograms)
      slowest_ms = std::max(slowest_ms, predicted_ms(experts.coefficients, histogram));
    const double actual =
        slowest_ms > 0 ? slowest_ms : predicted_ms(experts.coefficients, features[i].own[kExperts]);
    const double measured = records[i]->measured_layer_ms();
    correction +=
        (predicted_ms(experts.coefficients, *experts_of[i]) - actual) / (measured * measured);
  }
  return correction;
}

// offset_of(curves, the group's other records) (layer_bands.cpp) from the group's sums less the
// left-out record's terms: O(features) where the record-by-record sum is O(group) and made
// leave-one-record-out quadratic in a shape's records.
ShapeOffset offset_without(const CalibratedPhases& curves,
                           const std::vector<const TimingRecord*>& records,
                           const std::vector<RecordFeatures>& features,
                           const std::vector<std::size_t>& group, std::size_t left_out,
                           const GroupSums& sums,
                           const std::vector<const std::vector<double>*>& experts_of) {
  ShapeOffset offset;
  const TimingRecord& first = *records[group.front() == left_out ? group[1] : group.front()];
  offset.shape = first.shape;
  offset.ranks = first.work.ranks;
  offset.records = static_cast<int>(group.size() - 1);
  const TimingRecord& r = *records[left_out];
  const double weight = 1 / (r.measured_layer_ms() * r.measured_layer_ms());
  double residuals = sums.weighted_measured - weight * r.measured_layer_ms();
  for (const PhaseCurve& c : curves.curves) {
    if (!priced(c.phase, r.work.ranks)) continue;  // the group shares its EP size
    const auto p = static_cast<std::size_t>(c.phase);
    const auto& own = p == kExperts ? *experts_of[left_out] : features[left_out].own[p];
    for (std::size_t j = 0; j < own.size() && j < c.coefficients.size(); ++j)
      residuals -= c.coefficients[j] * (sums.weighted_features[p][j] - weight * own[j]);
    if (p == kExperts)
      residuals += slowest_rank_corrections(c, sums, records, features, experts_of, left_out);
  }
  offset.offset_ms = residuals / (sums.weights - weight);
  return offset;
}

}  // namespace

std::vector<HeldOutError> leave_one_record_out(const std::vector<const TimingRecord*>& records,
                                               const CalibratedPhases& chosen) {
  std::vector<std::vector<std::size_t>> alone;
  for (std::size_t i = 0; i < records.size(); ++i) alone.push_back({i});
  const auto unseen = curves_without_each(records, alone, chosen.curves);
  std::map<OffsetGroup, std::vector<std::size_t>> members;  // with a layer time, in record order
  for (std::size_t i = 0; i < records.size(); ++i)
    if (records[i]->measured_layer_ms() > 0) members[offset_group(*records[i])].push_back(i);
  std::vector<RecordFeatures> features;
  for (const TimingRecord* r : records) features.push_back(record_features(chosen.curves, *r));
  // The experts curve refitted to every record as the fits without one start from (with
  // collinear features another split of the same predictions than `chosen`'s), so its records'
  // slowest ranks move only as far as one record moves the fit.
  std::optional<PhaseCurve> reference;
  if (const PhaseCurve* experts = chosen.curve(CalibratedPhase::Experts))
    reference = curve_with(
        *experts, fit_all_rows(phase_rows(experts->phase, phase_records(experts->phase, records),
                                          experts->knee_tokens, experts->launch_floor_flops,
                                          experts->tile_rows)));
  std::vector<const std::vector<double>*> experts_of(records.size(), nullptr);
  std::map<OffsetGroup, GroupSums> sums;
  for (const auto& [key, group] : members)
    sums[key] = group_sums(records, features, group, reference ? &*reference : nullptr, experts_of);
  std::vector<HeldOutError> errors;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const TimingRecord& left_out = *records[i];
    if (!(left_out.measured_layer_ms() > 0)) continue;
    const OffsetGroup key = offset_group(left_out);
    const auto& group = members[key];
    if (group.size() < 2) continue;  // alone in its group: an unseen shape
    CalibratedPhases fitted = unseen[i];
    fitted.offsets = {offset_without(fitted, records, features, group, i, sums[key], experts_of)};
    const double predicted = estimate_record(fitted, left_out).layer_ms;
    errors.push_back(
        {predicted, predicted - left_out.measured_layer_ms(), left_out.measured_layer_ms()});
  }
  return errors;
}

}  // namespace moesim::sim
