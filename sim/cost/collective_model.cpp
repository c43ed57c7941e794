#include "sim/cost/collective_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "base/config_error.hpp"
#include "base/json_fields.hpp"
#include "base/strict_json.hpp"
#include "sim/cost/measurement_bounds.hpp"

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

// One entry of /collectives/all_to_all into its rank count's curve: the busbw always, the time
// where the entry has one (profiles before timed collectives have none).
void read_timed_entry(const Json& document, const std::string& key, std::size_t i,
                      ProblemList& problems, std::vector<CollectiveTimes>& out) {
  const std::string base = fmt::format("/collectives/{}/{}", key, i);
  const auto ranks = count_at(document, base + "/ranks", 2, problems);
  const auto bytes = positive_number_at(document, base + "/bytes", problems, kMaxSize);
  const auto busbw =
      positive_number_at(document, base + "/busbw_bytes_per_s", problems, kMaxPerSecond);
  const Json& entry = document["collectives"][key][i];
  const bool timed = entry.is_object() && entry.contains("time");
  const auto us =
      timed ? positive_number_at(document, base + "/time/median_us", problems, kMaxMicroseconds)
            : std::nullopt;
  if (!ranks || !bytes || !busbw || (timed && !us)) return;
  auto curve = std::find_if(out.begin(), out.end(),
                            [&](const CollectiveTimes& c) { return c.ranks == *ranks; });
  if (curve == out.end()) curve = out.insert(out.end(), CollectiveTimes{*ranks, {}, {}});
  curve->busbw.push_back({*bytes, *busbw});
  if (us) curve->points.push_back({*bytes, *us});
}

void read_timed(const Json& document, const std::string& key, ProblemList& problems,
                std::vector<CollectiveTimes>& out) {
  const Json::json_pointer where("/collectives/" + key);
  if (!document.contains(where)) return;  // profiles from one GPU carry none
  const Json& entries = document.at(where);
  if (!entries.is_array()) {
    problems.add(where.to_string(), "expected an array of {ranks, bytes, busbw_bytes_per_s}, got " +
                                        describe_json_value(entries));
    return;
  }
  for (std::size_t i = 0; i < entries.size(); ++i)
    read_timed_entry(document, key, i, problems, out);
  for (auto& curve : out) {
    std::sort(curve.points.begin(), curve.points.end(),
              [](const TimePoint& a, const TimePoint& b) { return a.bytes < b.bytes; });
    std::sort(curve.busbw.begin(), curve.busbw.end(),
              [](const BusbwPoint& a, const BusbwPoint& b) { return a.bytes < b.bytes; });
    for (std::size_t p = 1; p < curve.busbw.size(); ++p)
      if (curve.busbw[p].bytes == curve.busbw[p - 1].bytes)
        problems.add(where.to_string(),
                     fmt::format("expected one entry per size on {} ranks, got {} bytes twice",
                                 curve.ranks, curve.busbw[p].bytes));
  }
}

// /collectives/<key>: [{ranks, experts, time: {median_us}}, ...], optional.
std::vector<CountExchangePoint> read_rank_expert_times(const Json& document, const std::string& key,
                                                       ProblemList& problems) {
  std::vector<CountExchangePoint> out;
  const Json::json_pointer where("/collectives/" + key);
  if (!document.contains(where)) return out;
  const Json& entries = document.at(where);
  if (!entries.is_array()) {
    problems.add(where.to_string(), "expected an array, got " + describe_json_value(entries));
    return out;
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string base = fmt::format("/collectives/{}/{}", key, i);
    const auto ranks = count_at(document, base + "/ranks", 1, problems);
    const auto experts = count_at(document, base + "/experts", 1, problems);
    const auto us =
        positive_number_at(document, base + "/time/median_us", problems, kMaxMicroseconds);
    if (ranks && experts && us) out.push_back({*ranks, *experts, *us});
  }
  return out;
}

// The point nearest (ranks, experts), ranks first.
std::optional<double> nearest_rank_expert_time(const std::vector<CountExchangePoint>& points,
                                               int ranks, int experts) {
  const CountExchangePoint* best = nullptr;
  auto key = [&](const CountExchangePoint& p) {
    return std::pair(std::abs(p.ranks - ranks), std::abs(p.experts - experts));
  };
  for (const auto& point : points)
    if (!best || key(point) < key(*best)) best = &point;
  if (!best) return std::nullopt;
  return best->us;
}

}  // namespace

MeasuredCollectives read_measured_collectives(const Json& document, ProblemList& problems) {
  MeasuredCollectives out;
  const Json::json_pointer section("/collectives");
  if (!document.contains(section) || !document.at(section).is_object()) return out;
  const Json& collectives = document.at(section);
  if (collectives.contains("link_kind") && collectives["link_kind"].is_string())
    out.link_kind = collectives["link_kind"].get<std::string>();
  read_timed(document, "all_to_all", problems, out.all_to_all);
  read_timed(document, "all_reduce", problems, out.all_reduce);
  read_timed(document, "all_gather", problems, out.all_gather);
  read_timed(document, "reduce_scatter", problems, out.reduce_scatter);
  read_timed(document, "send_recv", problems, out.send_recv);
  out.count_exchange = read_rank_expert_times(document, "count_exchange", problems);
  out.dispatch_sequence = read_rank_expert_times(document, "dispatch_sequence", problems);
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
  return nearest_times(collectives.all_to_all, ranks);
}

const CollectiveTimes* nearest_times(const std::vector<CollectiveTimes>& curves, int ranks) {
  const CollectiveTimes* best = nullptr;
  for (const auto& curve : curves) {
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
  return nearest_rank_expert_time(collectives.count_exchange, ranks, experts);
}

std::optional<double> dispatch_sequence_us(const MeasuredCollectives& collectives, int ranks,
                                           int experts) {
  return nearest_rank_expert_time(collectives.dispatch_sequence, ranks, experts);
}

}  // namespace moesim::sim
