#pragma once
// What a serving plan's sweep as a whole may simulate: one run's budget (traffic_budget.hpp), so
// no plan costs more than the largest `moesim serve` (about ten seconds of CPU; docs/limits.md).
// Each option replays the traffic once or more (SLA retries), and how many options are simulated
// depends on their prices and verdicts, so the budget is spent as the sweep goes: a wave of
// simulations starts only if it fits at the work one replay is expected to cost, and the options
// left when it is spent are marked "budget", not simulated.
#include <algorithm>
#include <cstddef>
#include <vector>

#include "sim/serving/request_workload.hpp"
#include "sim/serving/serving_sim.hpp"
#include "sim/serving/traffic_budget.hpp"

namespace moesim::sim {

// One replay of generated traffic costs its requests; a closed loop (nothing generated up front)
// is assumed to cost a plan's whole traffic share, the most one replay may.
inline SimulatedWork expected_replay(const std::vector<Request>& requests) {
  if (requests.empty())
    return {kMaxServedRequests * kPlanTrafficShare, kMaxDecodedTokens * kPlanTrafficShare,
            kMaxPromptTokens * kPlanTrafficShare};
  return work_of(requests);
}

// A sweep's budget: one run's.
inline SimulatedWork plan_sweep_budget() {
  return {kMaxServedRequests, kMaxDecodedTokens, kMaxPromptTokens};
}

// How many more replays of `each` fit beside `spent` in `budget`.
inline std::size_t replays_left(const SimulatedWork& spent, const SimulatedWork& each,
                                const SimulatedWork& budget) {
  const auto fit = [](double used, double cost, double limit) {
    return cost <= 0 ? 1e18 : std::max(0.0, (limit - used) / cost);
  };
  const double n = std::min({fit(spent.requests, each.requests, budget.requests),
                             fit(spent.decoded, each.decoded, budget.decoded),
                             fit(spent.prompt, each.prompt, budget.prompt)});
  return static_cast<std::size_t>(std::min(n, 1e9));
}

}  // namespace moesim::sim
