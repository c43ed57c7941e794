#pragma once
// The least TTFT and TPOT p90 a deployment can reach at any instance count: each request alone on
// an empty instance. An option whose floor is over the SLA is rejected before it is simulated, so
// a plan whose SLA no option can meet ends with the nearest miss instead of spending its budget
// on replays that cannot pass (docs/plan.md, "How a serving plan decides").
#include <cstdint>
#include <string>
#include <vector>

#include "sim/serving/request_workload.hpp"
#include "sim/serving/serving_spec.hpp"
#include "sim/serving/step_pricer.hpp"

namespace moesim::sim {

// What the floors need of the traffic: the request at the p90 rank by prompt length (the rank the
// serving metrics take: ceil(0.9 n)), its computed tokens, and the shortest prompt.
struct TrafficFloorInputs {
  bool any = false;               // requests generated up front (a plan's traffic always has)
  bool any_decode = false;        // a request with more than one output token (TPOT counts it)
  std::int64_t p90_input = 0;     // prompt tokens
  std::int64_t p90_computed = 0;  // of those, not found in the prefix cache
  std::int64_t min_input = 0;
};
TrafficFloorInputs traffic_floor_inputs(const std::vector<Request>& requests);

// TTFT p90 can be no less than the p90 request's first prefill step alone: its computed tokens,
// up to the instance's token budget, spread over `ranks` attention ranks as the scheduler spreads
// them. TTFT grows with the prompt, so that request's floor is the p90 of every request's.
double ttft_floor_s(StepPricer& pricer, int ranks, std::int64_t token_budget_per_rank,
                    const TrafficFloorInputs& traffic);
// TPOT can be no less than a decode step of one sequence at the shortest prompt, over the tokens
// a step accepts (MTP).
double tpot_floor_s(StepPricer& pricer, const TrafficFloorInputs& traffic);

// Why floors `ttft_s` and `tpot_s` cannot meet `sla`, or "" when they can; `excess` gets the
// largest floor over its limit (1 or less when they can).
std::string sla_floor_miss(const SlaSpec& sla, double ttft_s, double tpot_s, double& excess);

}  // namespace moesim::sim
