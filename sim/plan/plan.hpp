#pragma once
// `moesim plan`: search cluster options (system, nodes, EP, attention TP, placement, redundant
// experts) for a model and workload, reject what does not fit, simulate the rest in parallel, and
// rank them by price against a throughput and latency target.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/plan/serving_plan.hpp"
#include "sim/report/report.hpp"
#include "sim/run/simulate.hpp"

namespace moesim::sim {

struct PlanCandidate {
  std::string label;        // "hgx-h200 x4, EP 32, TP 1, contiguous, +0"
  nlohmann::json scenario;  // the full scenario document simulated
  double usd_per_gpu_hour = 0;
  std::string price_date;
  std::string rejection;  // why no stack runs this layout (parallel_search.hpp); empty: simulate
};

struct PlanSpec {
  std::string name;
  std::optional<double> target_tokens_per_s;  // the whole service
  std::optional<double> max_latency_ms;       // step time (decode: time per output token)
  std::vector<PlanCandidate> candidates;
  // Serving traffic and an SLA (serving_plan.hpp): candidates are then ranked by $/hour at load.
  std::optional<ServingPlanSpec> serving;
};

inline constexpr const char* kPastFlowBounds = "analytic (past the flow bounds)";
// A front member whose all-to-alls are DeepEP's kernels, which only the analytic model prices.
inline constexpr const char* kAnalyticKernels = "analytic (DeepEP kernels)";

struct PlanOutcome {
  PlanCandidate candidate;
  bool fits = false;
  std::string rejection;  // why it was not simulated
  Report report;          // valid when fits
  double tokens_per_s_per_user = 0;
  bool meets_latency = true;
  int replicas_needed = 1;  // copies of this deployment to reach the throughput target
  bool pareto = false;      // on the front of tokens/s/GPU against tokens/s/user
  // The network model of the figures: "analytic" for the sweep, "flow" for the front, which is
  // played again under the flow network before the final ranking (kPastFlowBounds where the
  // candidate is past the flow model's work bounds, docs/limits.md, kAnalyticKernels under DeepEP's
  // kernels: replayed, still analytic).
  std::string network_model = "analytic";
  double memory_needed_bytes = 0;    // per GPU, when rejected for memory
  double memory_capacity_bytes = 0;  // the device's HBM, when rejected for memory
  double usd_per_hour() const;       // one deployment
  double usd_per_hour_at_target() const { return usd_per_hour() * replicas_needed; }
  std::optional<double> usd_per_million_tokens() const;
};

// Expands the plan file's candidate grid; throws ConfigError with paths for bad input.
PlanSpec parse_plan(const std::string& text, const std::string& source);
PlanSpec load_plan(const std::string& path);

struct PlanRanks;  // plan_ranks.hpp: several processes sharing the sweep

// Simulates every candidate on `threads` threads; outcomes come back in a deterministic order
// (feasible first by $/hour at the throughput target, or by $/million tokens without one, then
// latency misses, then rejections). With `ranks` of several processes each simulates its share
// and all of them return the same outcomes (`progress` then counts this rank's share).
std::vector<PlanOutcome> run_plan(const PlanSpec& plan, int threads,
                                  const ProgressCallback& progress = {});
std::vector<PlanOutcome> run_plan(const PlanSpec& plan, int threads,
                                  const ProgressCallback& progress, const PlanRanks& ranks);

// Feasible: simulated and within the latency target (throughput is met by adding replicas).
bool plan_feasible(const PlanOutcome& outcome);
// When no candidate is feasible, the one closest to it and by how much: the smallest latency
// overshoot, else the smallest memory overshoot, else the first rejection. nullopt otherwise.
std::optional<std::string> plan_nearest_miss(const PlanSpec& plan,
                                             const std::vector<PlanOutcome>& outcomes);

// Whether the plan's workload is prefill: it has no per-user speed or per-token latency then.
bool plan_is_prefill(const PlanSpec& plan);

std::string plan_table_text(const PlanSpec& plan, const std::vector<PlanOutcome>& outcomes,
                            int max_rows);
std::string plan_csv(const PlanSpec& plan, const std::vector<PlanOutcome>& outcomes);
nlohmann::json plan_json(const PlanSpec& plan, const std::vector<PlanOutcome>& outcomes);

}  // namespace moesim::sim
