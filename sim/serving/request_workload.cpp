#include "sim/serving/request_workload.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>

#include "base/json_fields.hpp"
#include "base/strict_json.hpp"
#include "sim/serving/request_log.hpp"
#include "sim/serving/traffic_budget.hpp"
#include "sim/spec/limits.hpp"

namespace moesim::sim {

namespace {

using Json = nlohmann::json;

constexpr std::string_view kTrafficFields[] = {
    "arrival",      "rate_per_s",    "users",
    "log",          "duration_s",    "max_requests",
    "input_tokens", "output_tokens", "prefix_cache_hit_rate",
    "seed"};
constexpr std::string_view kArrivalNames[] = {"poisson", "concurrency", "log"};
constexpr std::string_view kLengthFields[] = {"distribution", "value",  "min",
                                              "max",          "median", "sigma"};
constexpr std::string_view kDistributionNames[] = {"fixed", "uniform", "lognormal"};

LengthDistribution read_length(FieldReader& parent, std::string_view key) {
  LengthDistribution d;
  const Json* value = parent.child(key, true);
  if (value == nullptr) return d;
  const std::string path = parent.path_of(key);
  if (value->is_number_integer()) {  // shorthand: a fixed length
    const bool in_range =
        value->is_number_unsigned()
            ? value->get<std::uint64_t>() >= 1 &&
                  value->get<std::uint64_t>() <= static_cast<std::uint64_t>(kMaxRequestTokens)
            : false;  // a signed integer here is negative or zero
    if (in_range)
      d.value = value->get<std::int64_t>();
    else
      parent.problems().add(path, fmt::format("expected an integer in [1, {}], got {}",
                                              kMaxRequestTokens, describe_json_value(*value)));
    return d;
  }
  FieldReader r(*value, path, parent.problems(), kLengthFields);
  const auto kind = r.choice("distribution", kDistributionNames);
  if (kind == "fixed") {
    d.value = r.integer("value", 1, kMaxRequestTokens);
  } else if (kind == "uniform") {
    d.kind = LengthDistributionKind::Uniform;
    d.min = r.integer("min", 1, kMaxRequestTokens);
    d.max = r.integer("max", 1, kMaxRequestTokens);
    if (d.max < d.min)
      parent.problems().add(path + "/max", fmt::format("expected max >= min ({})", d.min));
  } else if (kind == "lognormal") {
    d.kind = LengthDistributionKind::Lognormal;
    d.median = r.number("median", 1, static_cast<double>(kMaxRequestTokens));
    d.sigma = r.number("sigma", 0, 4);
    d.max = r.integer("max", 1, kMaxRequestTokens);
    if (static_cast<double>(d.max) < d.median)
      parent.problems().add(path + "/max", fmt::format("expected max >= median ({})", d.median));
  }
  r.finish();
  return d;
}

std::string resolve_log_path(const std::string& file, const std::string& base_dir) {
  const std::filesystem::path path(file);
  if (path.is_absolute() || base_dir.empty()) return file;
  return (std::filesystem::path(base_dir) / path).string();
}

}  // namespace

std::uint64_t SplitMix64::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double SplitMix64::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double SplitMix64::standard_normal() {
  const double u1 = 1.0 - uniform();  // (0, 1]: log stays finite
  const double u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::int64_t LengthDistribution::sample(SplitMix64& rng) const {
  switch (kind) {
    case LengthDistributionKind::Fixed:
      return value;
    case LengthDistributionKind::Uniform:
      return min +
             static_cast<std::int64_t>(rng.next() % static_cast<std::uint64_t>(max - min + 1));
    case LengthDistributionKind::Lognormal:
      // Redrawn above max (the cut is part of the distribution, stated in docs/serving.md).
      for (;;) {
        const double draw = std::exp(std::log(median) + sigma * rng.standard_normal());
        const auto length = std::max<std::int64_t>(1, std::llround(draw));
        if (length <= max) return length;
      }
  }
  return value;
}

double LengthDistribution::mean() const {
  switch (kind) {
    case LengthDistributionKind::Fixed:
      return static_cast<double>(value);
    case LengthDistributionKind::Uniform:
      return (static_cast<double>(min) + static_cast<double>(max)) / 2;
    case LengthDistributionKind::Lognormal:
      return median * std::exp(sigma * sigma / 2);
  }
  return static_cast<double>(value);
}

std::int64_t cached_prompt_tokens(std::int64_t input_tokens, double hit_rate) {
  const auto cached =
      static_cast<std::int64_t>(std::floor(static_cast<double>(input_tokens) * hit_rate));
  return std::min(cached, input_tokens - 1);
}

TrafficSpec read_traffic(const Json& object, const std::string& path, const std::string& base_dir,
                         ProblemList& problems, double budget_share) {
  TrafficSpec t;
  FieldReader r(object, path, problems, kTrafficFields);
  const auto arrival = r.choice("arrival", kArrivalNames, "poisson");
  t.arrival = arrival == "concurrency" ? ArrivalKind::Concurrency
              : arrival == "log"       ? ArrivalKind::Log
                                       : ArrivalKind::Poisson;
  if (t.arrival == ArrivalKind::Poisson) t.rate_per_s = r.number("rate_per_s", 0, 1e7, {}, true);
  if (t.arrival == ArrivalKind::Concurrency)
    t.users = static_cast<int>(r.integer("users", 1, 1'000'000));
  if (t.arrival == ArrivalKind::Log) {
    t.log_path = resolve_log_path(r.string("log"), base_dir);
    if (problems.empty()) {
      try {
        t.log_requests = load_request_log(t.log_path);
      } catch (const ConfigError& error) {
        for (const auto& p : error.problems())
          // A problem of the whole file (cannot open it, more problems) has no place in it.
          problems.add(p.where.empty()
                           ? fmt::format("{}/log: {}", path, error.source())
                           : fmt::format("{}/log: {}: {}", path, error.source(), p.where),
                       p.message);
      }
    }
  } else {
    t.duration_s = r.number("duration_s", 0, 7 * 24 * 3600.0, 60.0, true);
    t.input = read_length(r, "input_tokens");
    t.output = read_length(r, "output_tokens");
  }
  t.max_requests = r.integer("max_requests", 0, 100'000'000, 0);
  t.prefix_cache_hit_rate = r.number("prefix_cache_hit_rate", 0, 1, 0.0);
  if (t.prefix_cache_hit_rate >= 1)
    problems.add(path + "/prefix_cache_hit_rate", "expected a number in [0, 1), got 1");
  t.seed =
      static_cast<std::uint64_t>(r.integer("seed", 0, std::numeric_limits<std::int64_t>::max(), 1));
  r.finish();
  if (problems.empty()) check_traffic_budget(t, path, problems, budget_share);
  return t;
}

Request draw_request(const TrafficSpec& t, SplitMix64& rng, std::int64_t id) {
  Request r;
  r.id = id;
  r.input_tokens = t.input.sample(rng);
  r.output_tokens = t.output.sample(rng);
  r.cached_tokens = cached_prompt_tokens(r.input_tokens, t.prefix_cache_hit_rate);
  return r;
}

std::vector<Request> generate_requests(const TrafficSpec& t) {
  std::vector<Request> requests;
  const auto cap = t.max_requests > 0 ? t.max_requests : std::numeric_limits<std::int64_t>::max();
  if (t.arrival == ArrivalKind::Log) {
    requests = t.log_requests;
    if (static_cast<std::int64_t>(requests.size()) > cap)
      requests.resize(static_cast<std::size_t>(cap));
    for (auto& r : requests)
      r.cached_tokens = cached_prompt_tokens(r.input_tokens, t.prefix_cache_hit_rate);
  } else if (t.arrival == ArrivalKind::Poisson) {
    SplitMix64 rng(t.seed);
    double clock = 0;
    for (std::int64_t id = 0; id < cap; ++id) {
      clock += -std::log(1.0 - rng.uniform()) / t.rate_per_s;  // exponential gaps
      if (clock >= t.duration_s) break;
      Request r = draw_request(t, rng, id);
      r.arrival_s = clock;
      requests.push_back(r);
    }
  }
  return requests;
}

}  // namespace moesim::sim
