#include "sim/cost/skewed_launches.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "base/config_error.hpp"
#include "sim/cost/grouped_expert_curves.hpp"

namespace moesim::sim {
namespace {

// The balanced sum the simulator would charge for `rows` on one back end: each expert at its own
// count, a grouped launch at its active-expert count (MeasuredProfile::experts_us does the same).
double balanced_sum_us(const ModelCurves& curves, const std::vector<double>& rows, bool grouped) {
  const double active =
      static_cast<double>(std::count_if(rows.begin(), rows.end(), [](double r) { return r > 0; }));
  double total = 0;
  for (double r : rows)
    if (r > 0)
      total += grouped ? grouped_per_expert_us(curves, r, active)
                       : interpolate(curves.expert_loop_us, r);
  return total;
}

// The measured median of back end `method` in a skewed entry, or 0 with a problem recorded.
double measured_us(const nlohmann::json& entry, const std::string& path, const char* method,
                   ProblemList& problems) {
  const nlohmann::json::json_pointer pointer(fmt::format("/{}/median_us", method));
  if (entry.contains(pointer) && entry.at(pointer).is_number() &&
      entry.at(pointer).get<double>() > 0 && std::isfinite(entry.at(pointer).get<double>()))
    return entry.at(pointer).get<double>();
  problems.add(fmt::format("{}/{}/median_us", path, method), "expected a positive number");
  return 0;
}

}  // namespace

std::optional<LaunchShape> launch_shape(const std::vector<double>& rows_per_expert) {
  double sum = 0, max = 0, active = 0;
  for (double r : rows_per_expert) {
    if (r <= 0) continue;
    sum += r;
    max = std::max(max, r);
    ++active;
  }
  if (active == 0) return std::nullopt;
  const double mean = sum / active;
  return LaunchShape{std::log2(mean), std::log2(max / mean)};
}

std::vector<SkewedLaunch> read_skewed_launches(const nlohmann::json& document,
                                               const std::string& model_pointer,
                                               const ModelCurves& curves, ProblemList& problems) {
  const nlohmann::json::json_pointer pointer(model_pointer + "/experts/skewed");
  if (!document.contains(pointer) || curves.expert_loop_us.empty() ||
      curves.expert_grouped_us.empty())
    return {};
  const nlohmann::json& entries = document.at(pointer);
  const std::string base = model_pointer + "/experts/skewed";
  if (!entries.is_array()) {
    problems.add(base, "expected an array of {histogram, loop, grouped}");
    return {};
  }
  std::vector<SkewedLaunch> launches;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string path = fmt::format("{}/{}", base, i);
    const nlohmann::json& entry = entries[i];
    std::vector<double> rows;
    if (entry.is_object() && entry.contains("histogram") && entry["histogram"].is_array())
      for (const auto& r : entry["histogram"])
        rows.push_back(r.is_number() && r.get<double>() > 0 ? r.get<double>() : 0);
    const auto shape = launch_shape(rows);
    if (!shape) {
      problems.add(path + "/histogram", "expected an array of row counts, one of them positive");
      continue;
    }
    const double loop = measured_us(entry, path, "loop", problems);
    const double grouped = measured_us(entry, path, "grouped", problems);
    if (loop <= 0 || grouped <= 0) continue;
    launches.push_back({shape->log_mean_rows, shape->log_max_over_mean,
                        loop / balanced_sum_us(curves, rows, false),
                        grouped / balanced_sum_us(curves, rows, true)});
  }
  return launches;
}

double skew_factor(const ModelCurves& curves, const LaunchShape& shape, const std::string& method) {
  const SkewedLaunch* nearest = nullptr;
  double best = 0;
  for (const SkewedLaunch& launch : curves.skewed_launches) {
    const double d = std::hypot(launch.log_mean_rows - shape.log_mean_rows,
                                launch.log_max_over_mean - shape.log_max_over_mean);
    if (nearest == nullptr || d < best) {
      nearest = &launch;
      best = d;
    }
  }
  if (nearest == nullptr) return 1;
  return method == "grouped" ? nearest->grouped_factor : nearest->loop_factor;
}

}  // namespace moesim::sim
