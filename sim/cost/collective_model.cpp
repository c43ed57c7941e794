#include "sim/cost/collective_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "base/config_error.hpp"
#include "base/json_fields.hpp"
#include "base/strict_json.hpp"

namespace moesim::sim {
namespace {

using Json = nlohmann::json;

// An integer in [minimum, 1e6] at `pointer`, or a problem naming it.
std::optional<int> count_at(const Json& document, const std::string& pointer, int minimum,
                            ProblemList& problems) {
  const auto value = positive_number_at(document, pointer, problems);
  if (!value) return std::nullopt;
  if (*value < minimum || *value > 1e6 || *value != std::floor(*value)) {
    problems.add(pointer,
                 fmt::format("expected an integer in [{}, 1000000], got {}", minimum, *value));
    return std::nullopt;
  }
  return static_cast<int>(*value);
}

void read_all_to_all_times(const Json& document, ProblemList& problems, MeasuredCollectives& out) {
  const Json& entries = document.at(Json::json_pointer("/collectives/all_to_all"));
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string base = fmt::format("/collectives/all_to_all/{}", i);
    if (!entries[i].is_object() || !entries[i].contains("time")) continue;  // busbw-only entry
    const auto ranks = count_at(document, base + "/ranks", 2, problems);
    const auto bytes = positive_number_at(document, base + "/bytes", problems);
    const auto us = positive_number_at(document, base + "/time/median_us", problems);
    if (!ranks || !bytes || !us) continue;
    auto curve = std::find_if(out.all_to_all.begin(), out.all_to_all.end(),
                              [&](const AllToAllTimes& c) { return c.ranks == *ranks; });
    if (curve == out.all_to_all.end())
      curve = out.all_to_all.insert(out.all_to_all.end(), AllToAllTimes{*ranks, {}});
    curve->points.push_back({*bytes, *us});
  }
  for (auto& curve : out.all_to_all) {
    std::sort(curve.points.begin(), curve.points.end(),
              [](const TimePoint& a, const TimePoint& b) { return a.bytes < b.bytes; });
    for (std::size_t p = 1; p < curve.points.size(); ++p)
      if (curve.points[p].bytes == curve.points[p - 1].bytes)
        problems.add("/collectives/all_to_all",
                     fmt::format("expected one entry per size on {} ranks, got {} bytes twice",
                                 curve.ranks, curve.points[p].bytes));
  }
}

void read_count_exchange(const Json& document, ProblemList& problems, MeasuredCollectives& out) {
  const Json::json_pointer where("/collectives/count_exchange");
  if (!document.contains(where)) return;
  const Json& entries = document.at(where);
  if (!entries.is_array()) {
    problems.add(where.to_string(), "expected an array, got " + describe_json_value(entries));
    return;
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string base = fmt::format("/collectives/count_exchange/{}", i);
    const auto ranks = count_at(document, base + "/ranks", 1, problems);
    const auto experts = count_at(document, base + "/experts", 1, problems);
    const auto us = positive_number_at(document, base + "/time/median_us", problems);
    if (ranks && experts && us) out.count_exchange.push_back({*ranks, *experts, *us});
  }
}

}  // namespace

MeasuredCollectives read_measured_collectives(const Json& document, ProblemList& problems) {
  MeasuredCollectives out;
  const Json::json_pointer section("/collectives");
  if (!document.contains(section) || !document.at(section).is_object()) return out;
  const Json& collectives = document.at(section);
  if (collectives.contains("link_kind") && collectives["link_kind"].is_string())
    out.link_kind = collectives["link_kind"].get<std::string>();
  if (collectives.contains("all_to_all") && collectives["all_to_all"].is_array())
    read_all_to_all_times(document, problems, out);  // a non-array is reported by the busbw reader
  read_count_exchange(document, problems, out);
  return out;
}

double loglog_interpolate(const std::vector<TimePoint>& points, double bytes) {
  if (points.empty()) return 0;
  if (bytes <= points.front().bytes) return points.front().us;
  if (bytes >= points.back().bytes) return points.back().us * bytes / points.back().bytes;
  const auto upper =
      std::upper_bound(points.begin(), points.end(), bytes,
                       [](double value, const TimePoint& p) { return value < p.bytes; });
  const TimePoint& hi = *upper;
  const TimePoint& lo = *(upper - 1);
  const double share = std::log(bytes / lo.bytes) / std::log(hi.bytes / lo.bytes);
  return lo.us * std::pow(hi.us / lo.us, share);
}

const AllToAllTimes* nearest_all_to_all(const MeasuredCollectives& collectives, int ranks) {
  const AllToAllTimes* best = nullptr;
  for (const auto& curve : collectives.all_to_all) {
    if (curve.points.empty()) continue;
    const int distance = std::abs(curve.ranks - ranks);
    const int best_distance = best ? std::abs(best->ranks - ranks) : 0;
    if (!best || distance < best_distance ||
        (distance == best_distance && curve.ranks > best->ranks))
      best = &curve;
  }
  return best;
}

std::optional<double> count_exchange_us(const MeasuredCollectives& collectives, int ranks,
                                        int experts) {
  const CountExchangePoint* best = nullptr;
  auto key = [&](const CountExchangePoint& p) {
    return std::pair(std::abs(p.ranks - ranks), std::abs(p.experts - experts));
  };
  for (const auto& point : collectives.count_exchange)
    if (!best || key(point) < key(*best)) best = &point;
  if (!best) return std::nullopt;
  return best->us;
}

}  // namespace moesim::sim
