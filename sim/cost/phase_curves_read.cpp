// Reading a profile's "calibrated_phases" section (written by to_json in phase_curves.cpp): every
// field checked, every problem named by its JSON pointer.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/config_error.hpp"
#include "base/json_fields.hpp"
#include "base/strict_json.hpp"
#include "sim/cost/phase_curves.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

constexpr double kHuge = std::numeric_limits<double>::max();

// Finite, non-negative numbers; anything else is named at its own pointer.
std::vector<double> read_numbers(const Json& array, const std::string& pointer,
                                 ProblemList& problems) {
  std::vector<double> numbers;
  if (!array.is_array()) {
    problems.add(pointer, "expected an array of numbers, got " + describe_json_value(array));
    return numbers;
  }
  for (std::size_t i = 0; i < array.size(); ++i) {
    const Json& v = array[i];
    if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0)
      problems.add(fmt::format("{}/{}", pointer, i),
                   "expected a finite number >= 0, got " + describe_json_value(v));
    else
      numbers.push_back(v.get<double>());
  }
  return numbers;
}

std::vector<FeatureRange> read_ranges(const Json& object, const std::string& pointer,
                                      ProblemList& problems) {
  std::vector<FeatureRange> ranges;
  if (!object.is_object()) {
    problems.add(pointer,
                 "expected an object of [min, max] ranges, got " + describe_json_value(object));
    return ranges;
  }
  for (const auto& [name, value] : object.items()) {
    const std::string where = json_pointer_child(pointer, name);
    const auto bounds = read_numbers(value, where, problems);
    if (value.is_array() && (value.size() != 2 || (bounds.size() == 2 && bounds[0] > bounds[1]))) {
      problems.add(where, "expected [min, max] with min <= max");
      continue;
    }
    if (bounds.size() == 2) ranges.push_back({name, bounds[0], bounds[1]});
  }
  return ranges;
}

PhaseCurve read_phase_curve(CalibratedPhase phase, const Json& value, const std::string& pointer,
                            ProblemList& problems) {
  PhaseCurve curve;
  curve.phase = phase;
  FieldReader r(value, pointer, problems);
  if (!r.is_object()) return curve;
  std::vector<std::string> expected;
  for (auto name : feature_names(phase)) expected.emplace_back(name);
  if (const Json* features = r.child("features", true)) {
    if (!features->is_array() || *features != Json(expected))
      problems.add(r.path_of("features"),
                   fmt::format("expected exactly [{}] (this moesim's features of {})",
                               fmt::join(expected, ", "), phase_name(phase)));
  }
  if (const Json* coefficients = r.child("coefficients_ms", true)) {
    curve.coefficients = read_numbers(*coefficients, r.path_of("coefficients_ms"), problems);
    if (coefficients->is_array() && coefficients->size() != expected.size())
      problems.add(r.path_of("coefficients_ms"),
                   fmt::format("expected {} coefficients, one per feature", expected.size()));
  }
  curve.knee_tokens = r.number("knee_tokens", 0, kHuge, 0.0);
  curve.launch_floor_flops = r.number("launch_floor_flops", 0, kHuge, 0.0);
  curve.tile_rows = r.number("tile_rows", 0, kHuge, 0.0);
  curve.records = static_cast<int>(r.integer("records", 1, 100'000'000));
  curve.fit_rms = r.number("fit_rms_relative", 0);
  if (const Json* loo = r.child("leave_one_shape_out", true)) {
    FieldReader l(*loo, r.path_of("leave_one_shape_out"), problems);
    curve.loo_rms = l.number("rms_relative", 0);
    curve.loo_p90 = l.number("p90_abs_relative", 0);
    l.finish();
  }
  if (const Json* ranges = r.child("ranges", true))
    curve.ranges = read_ranges(*ranges, r.path_of("ranges"), problems);
  r.finish();
  return curve;
}

LayerBand read_band(FieldReader& parent, ProblemList& problems) {
  LayerBand band;
  if (const Json* value = parent.child("band")) {
    FieldReader b(*value, parent.path_of("band"), problems);
    band.floor_ms = b.number("floor_ms", 0);
    band.relative = b.number("relative", 0);
    b.finish();
  }
  return band;
}

ShapeOffset read_offset(const Json& value, const std::string& pointer, ProblemList& problems) {
  ShapeOffset offset;
  FieldReader r(value, pointer, problems);
  if (const Json* shape = r.child("shape", true)) {
    FieldReader s(*shape, r.path_of("shape"), problems);
    offset.shape.hidden = s.number("hidden", 0, kHuge, std::nullopt, true);
    offset.shape.expert_ffn = s.number("expert_ffn", 0, kHuge, std::nullopt, true);
    offset.shape.experts = s.number("experts", 0, kHuge, std::nullopt, true);
    offset.shape.top_k = s.number("top_k", 0, kHuge, std::nullopt, true);
    offset.shape.gated = s.boolean("gated");
    offset.shape.activation_bytes = s.number("activation_bytes", 0, kHuge, std::nullopt, true);
    offset.shape.weight_bytes = s.number("weight_bytes", 0, kHuge, std::nullopt, true);
    s.finish();
  }
  offset.ranks = static_cast<int>(r.integer("ranks", 1, 1'000'000));
  offset.records = static_cast<int>(r.integer("records", 1, 100'000'000));
  offset.offset_ms = r.number("offset_ms", -kHuge);
  r.finish();
  return offset;
}

std::vector<ShapeOffset> read_offsets(FieldReader& r, ProblemList& problems) {
  std::vector<ShapeOffset> offsets;
  const Json* list = r.child("shape_offsets");
  if (list == nullptr) return offsets;
  if (!list->is_array()) {
    problems.add(r.path_of("shape_offsets"),
                 "expected an array of shape offsets, got " + describe_json_value(*list));
    return offsets;
  }
  for (std::size_t i = 0; i < list->size(); ++i)
    offsets.push_back(
        read_offset((*list)[i], fmt::format("{}/{}", r.path_of("shape_offsets"), i), problems));
  return offsets;
}

}  // namespace

CalibratedPhases read_calibrated_phases(const Json& document, const std::string& pointer,
                                        ProblemList& problems) {
  CalibratedPhases phases;
  const Json::json_pointer where(pointer);
  FieldReader r(document.at(where), pointer, problems);
  if (!r.is_object()) return phases;
  phases.stack = r.string("stack");
  phases.device = r.string("device");
  phases.records = static_cast<int>(r.integer("records", 1, 100'000'000));
  phases.shapes = static_cast<int>(r.integer("shapes", 1, 100'000'000));
  if (const Json* layer = r.child("layer_leave_one_shape_out", true)) {
    FieldReader l(*layer, r.path_of("layer_leave_one_shape_out"), problems);
    phases.layer_loo_median = l.number("median_abs_relative", 0);
    phases.layer_loo_p90 = l.number("p90_abs_relative", 0);
    phases.unseen_band = read_band(l, problems);
    l.finish();
  }
  // Seen shapes (optional: profiles before them have neither the band nor the offsets).
  if (const Json* seen = r.child("layer_leave_one_record_out")) {
    FieldReader l(*seen, r.path_of("layer_leave_one_record_out"), problems);
    phases.seen_loo_median = l.number("median_abs_relative", 0);
    phases.seen_band = read_band(l, problems);
    l.finish();
  }
  phases.offsets = read_offsets(r, problems);
  // Per phase, each fitted record's relative residual (moesim calibrate adds them): for readers.
  if (const Json* residuals = r.child("residuals_relative");
      residuals != nullptr && !residuals->is_object())
    problems.add(r.path_of("residuals_relative"),
                 "expected an object of residual arrays, got " + describe_json_value(*residuals));
  // The timing files it was fitted to (moesim calibrate adds them): provenance only.
  if (const Json* timings = r.child("timings"); timings != nullptr && !timings->is_array())
    problems.add(r.path_of("timings"),
                 "expected an array of file names, got " + describe_json_value(*timings));
  const Json* curves = r.child("phases", true);
  if (curves != nullptr && !curves->is_object())
    problems.add(r.path_of("phases"),
                 "expected an object of phase curves, got " + describe_json_value(*curves));
  if (curves != nullptr && curves->is_object()) {
    for (const auto& [name, value] : curves->items()) {
      const std::string at = json_pointer_child(r.path_of("phases"), name);
      const auto known =
          std::find(kCalibratedPhaseNames.begin(), kCalibratedPhaseNames.end(), name);
      if (known == kCalibratedPhaseNames.end()) {
        problems.add(at, fmt::format("unknown phase; expected one of {}",
                                     fmt::join(kCalibratedPhaseNames, ", ")));
        continue;
      }
      const auto phase = static_cast<CalibratedPhase>(known - kCalibratedPhaseNames.begin());
      phases.curves.push_back(read_phase_curve(phase, value, at, problems));
    }
  }
  r.finish();
  return phases;
}

}  // namespace moesim::sim
