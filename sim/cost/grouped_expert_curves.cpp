#include "sim/cost/grouped_expert_curves.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "base/config_error.hpp"
#include "base/json_fields.hpp"
#include "base/strict_json.hpp"
#include "sim/cost/measurement_bounds.hpp"
#include "sim/cost/tile_steps.hpp"

namespace moesim::sim {

double grouped_per_expert_us(const ModelCurves& curves, double tokens_per_expert,
                             double active_experts) {
  const auto& fewer = curves.expert_grouped_fewer;
  if (fewer.empty() || curves.experts <= fewer.back().active_experts)
    return interpolate_in_tiles(curves.expert_grouped_us, tokens_per_expert,
                                curves.grouped_tile_rows);
  // Levels: the fewer-active curves, ascending, then the full group at the model's experts.
  const std::size_t levels = fewer.size() + 1;
  auto active_at = [&](std::size_t i) {
    return static_cast<double>(i < fewer.size() ? fewer[i].active_experts : curves.experts);
  };
  auto value_at = [&](std::size_t i) {
    // Fewer experts in a launch fill fewer SMs, but each expert's rows are cut into the same tiles.
    return interpolate_in_tiles(
        i < fewer.size() ? fewer[i].per_expert_us : curves.expert_grouped_us, tokens_per_expert,
        curves.grouped_tile_rows);
  };
  if (active_experts <= active_at(0)) return value_at(0);
  if (active_experts >= active_at(levels - 1)) return value_at(levels - 1);
  std::size_t i = 0;
  while (active_at(i + 1) < active_experts) ++i;
  const double weight =
      std::log(active_experts / active_at(i)) / std::log(active_at(i + 1) / active_at(i));
  return (1 - weight) * value_at(i) + weight * value_at(i + 1);
}

namespace {

// One entry of by_active/grouped: its active count (0 when malformed) and its point.
int read_entry(const nlohmann::json& document, const std::string& at, int model_experts,
               CurvePoint& point, ProblemList& problems) {
  const double active =
      positive_number_at(document, at + "/active_experts", problems, kMaxSize).value_or(0);
  if (active > 0 &&
      (active != std::floor(active) || (model_experts > 0 && active >= model_experts))) {
    problems.add(at + "/active_experts",
                 fmt::format("expected a whole number of experts below the model's {}, got {}",
                             model_experts, active));
    return 0;
  }
  point.x = positive_number_at(document, at + "/tokens_per_expert", problems, kMaxSize).value_or(0);
  point.y =
      positive_number_at(document, at + "/per_expert_us", problems, kMaxMicroseconds).value_or(0);
  return point.x >= 1 && point.y > 0 ? static_cast<int>(active) : 0;
}

}  // namespace

std::vector<ActiveExpertsCurve> read_fewer_active_curves(const nlohmann::json& document,
                                                         const std::string& model_pointer,
                                                         int model_experts, ProblemList& problems) {
  const std::string pointer = model_pointer + "/experts/by_active/grouped";
  const nlohmann::json::json_pointer where(pointer);
  if (!document.contains(where)) return {};
  const nlohmann::json& entries = document.at(where);
  if (!entries.is_array()) {
    problems.add(pointer,
                 "expected an array of {active_experts, tokens_per_expert, "
                 "per_expert_us, time}, got " +
                     describe_json_value(entries));
    return {};
  }
  std::map<int, Curve> by_active;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string at = fmt::format("{}/{}", pointer, i);
    CurvePoint point{};
    const int active = read_entry(document, at, model_experts, point, problems);
    if (active == 0) continue;
    Curve& curve = by_active[active];
    // Interpolation needs each group's sizes in order, as moesim-profile writes them.
    if (!curve.empty() && !(point.x > curve.back().x)) {
      problems.add(at + "/tokens_per_expert",
                   fmt::format("expected tokens_per_expert increasing within active_experts {}, "
                               "got {} after {}",
                               active, point.x, curve.back().x));
      continue;
    }
    curve.push_back(point);
  }
  std::vector<ActiveExpertsCurve> curves;
  for (auto& [active, curve] : by_active) curves.push_back({active, std::move(curve)});
  return curves;
}

}  // namespace moesim::sim
