#pragma once
// `moesim plan` against an SLA: a plan file with a "serving" section (traffic, SLA, batching,
// aggregated or prefill/decode) ranks every candidate deployment and batch limit by $/hour at the
// traffic's load, cheapest first, and says why each other option failed: memory, SLA or
// throughput, or price (not simulated: even its lower bound costs more than the options kept).
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/config_error.hpp"
#include "sim/plan/sweep_budget.hpp"
#include "sim/run/simulate.hpp"
#include "sim/serving/serving_run.hpp"

namespace moesim::sim {

struct PlanCandidate;
struct PlanSpec;

struct ServingPlanSpec {
  TrafficSpec traffic;
  SlaSpec sla;
  BatchingSpec batching;
  double memory_fraction = 0.9;
  std::vector<int> max_batch_per_rank{256};  // swept: each a candidate
  bool disaggregated = false;                // prefill and decode pools, each sized to keep up
  // Disaggregated: each pool takes any shape of the grid ("cross", serving_pool_pairs.hpp), or
  // both the same one ("same").
  bool cross_shapes = true;
  int keep = 10;  // feasible options simulated before pricier ones are skipped
};

// The plan file's /serving; nullopt when absent. Problems under /serving.
std::optional<ServingPlanSpec> read_serving_plan(const nlohmann::json* object,
                                                 const std::string& base_dir,
                                                 ProblemList& problems);

enum class ServingVerdict { Feasible, Memory, Sla, Throughput, Price, Budget };
std::string_view verdict_name(ServingVerdict verdict);

struct ServingPlanOutcome {
  std::string label;  // the candidate's label and its batch limit
  int candidate = 0;  // index into PlanSpec::candidates (disaggregated: the decode pool's shape)
  int prefill_candidate = -1;  // disaggregated: the prefill pool's shape (-1: `candidate`'s)
  int max_batch_per_rank = 0;
  ServingVerdict verdict = ServingVerdict::Price;
  std::string reason;                               // empty when feasible
  int prefill_instances = 0, decode_instances = 0;  // aggregated: decode_instances only
  int gpus_per_instance = 0;                        // the decode (or aggregated) pool's
  int prefill_gpus_per_instance = 0;                // disaggregated
  int gpus = 0;
  double usd_per_hour = 0;  // at the traffic's load; the lower bound when not simulated
  ServingMetrics metrics;   // when simulated
  double curve_tokens_per_s_per_gpu = 0;  // decode flat out at the batch limit
  double curve_tokens_per_s_per_user = 0;
  bool pareto = false;
  bool simulated = false;
  // The least TTFT and TPOT p90 at any instance count (sla_floor.hpp): the prefill shape's and
  // the decode shape's.
  double ttft_floor_s = 0, tpot_floor_s = 0;
  // The largest p90 over its SLA limit: simulated when simulated, else of the floors; misses rank
  // by it (nearest first). Simulated, the sum of the p90s over their limits: options at one price
  // rank by it (farthest inside the SLA, all its terms together, first).
  double sla_excess = 0, sla_use = 0;
};

struct ServingPlanResult {
  std::vector<ServingPlanOutcome> outcomes;  // feasible by $/hour first, then the rest by verdict
  double offered_requests_per_s = 0;
  int simulated = 0;
};

// Progress as a share of the sweep, in percent, and what it is doing ("sized 40 of 90 shapes").
using SweepProgress = std::function<void(int percent, const std::string& note)>;

// `sweep_budget`: what all the sweep's replays of the traffic may simulate (sweep_budget.hpp).
ServingPlanResult run_serving_plan(const PlanSpec& plan, int threads,
                                   const SweepProgress& progress = {},
                                   const SimulatedWork& sweep_budget = plan_sweep_budget());

// The sweep's budget (docs/plan.md, "Budget") may leave options unsimulated. With none feasible,
// "infeasible" would be its artefact; with an answer, an unsimulated option whose lower bound is
// below it might have been cheaper. Either way the plan cannot stand by its answer: what to say
// (the CLI exits 2 at /serving/traffic, outputs written), or "" when the answer stands.
std::string budget_caveat(const ServingPlanResult& result);

std::string serving_plan_table_text(const PlanSpec& plan, const ServingPlanResult& result,
                                    int max_rows);
std::string serving_plan_csv(const ServingPlanResult& result);
nlohmann::json serving_plan_json(const PlanSpec& plan, const ServingPlanResult& result);

}  // namespace moesim::sim
