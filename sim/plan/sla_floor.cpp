#include "sim/plan/sla_floor.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sim/serving/serving_metrics.hpp"

namespace moesim::sim {

TrafficFloorInputs traffic_floor_inputs(const std::vector<Request>& requests) {
  TrafficFloorInputs t;
  if (requests.empty()) return t;
  // The request at the rank the serving metrics take for a p90 (serving_metrics.hpp).
  std::vector<const Request*> by_input;
  for (const Request& r : requests) by_input.push_back(&r);
  const auto shorter = [](const Request* a, const Request* b) {
    return a->input_tokens < b->input_tokens;
  };
  const auto p90 =
      by_input.begin() + static_cast<std::ptrdiff_t>(nearest_rank_index(by_input.size(), 0.9));
  std::nth_element(by_input.begin(), p90, by_input.end(), shorter);
  t.any = true;
  t.p90_input = (*p90)->input_tokens;
  t.p90_computed = (*p90)->prefill_tokens();
  t.min_input = (*std::min_element(by_input.begin(), by_input.end(), shorter))->input_tokens;
  t.any_decode = std::any_of(requests.begin(), requests.end(),
                             [](const Request& r) { return r.output_tokens > 1; });
  return t;
}

double ttft_floor_s(StepPricer& pricer, int ranks, std::int64_t token_budget_per_rank,
                    const TrafficFloorInputs& traffic) {
  if (!traffic.any || traffic.p90_computed <= 0) return 0;
  const auto r = static_cast<double>(std::max(1, ranks));
  const double first_chunk = std::min(static_cast<double>(traffic.p90_computed),
                                      static_cast<double>(token_budget_per_rank) * r);
  return pricer.step_seconds(
      {std::ceil(first_chunk / r), static_cast<double>(traffic.p90_input), 0, 0});
}

double tpot_floor_s(StepPricer& pricer, const TrafficFloorInputs& traffic) {
  if (!traffic.any_decode) return 0;
  const double step = pricer.step_seconds({0, 0, 1, static_cast<double>(traffic.min_input)});
  return step / pricer.accepted_tokens_per_sequence();
}

std::string sla_floor_miss(const SlaSpec& sla, double ttft_s, double tpot_s, double& excess) {
  excess = 0;
  std::string why;
  const auto term = [&](const std::optional<double>& limit, double floor, const char* name,
                        const char* how) {
    if (!limit || *limit <= 0 || floor <= 0) return;
    excess = std::max(excess, floor / *limit);
    // The engine keeps time in whole nanoseconds: a simulated p90 may sit a rounding under the
    // floor, so only a floor past the limit by more than that rejects.
    if (floor <= *limit * (1 + 1e-9)) return;
    why += fmt::format("{}{} p90 at least {:.1f} ms > {:.1f} ms ({})", why.empty() ? "" : ", ",
                       name, floor * 1e3, *limit * 1e3, how);
  };
  term(sla.ttft_p90_s, ttft_s, "TTFT", "the p90 prompt's first prefill step on an empty instance");
  term(sla.tpot_p90_s, tpot_s, "TPOT", "a decode step of one sequence");
  return why.empty() ? why : "SLA at any instance count: " + why;
}

}  // namespace moesim::sim
