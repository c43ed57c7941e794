#pragma once
// A serving file played end to end: each pool's capacity and KV budget, pool sizes chosen to keep
// up when asked ("auto"), every instance simulated, KV transfers priced between the pools, and the
// service's latencies and throughput held against the SLA.
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "sim/serving/serving_metrics.hpp"
#include "sim/serving/serving_spec.hpp"
#include "sim/serving/step_pricer.hpp"

namespace moesim::sim {

// Pools run each at most this share of their saturated capacity when sized automatically: queues
// grow without bound as utilisation nears 1 (M/D/1: waiting ~ rho / (1 - rho)).
inline constexpr double kPoolTargetUtilisation = 0.8;

// One pool's deployment: what an instance holds and what it can serve flat out.
struct PoolCapacity {
  int gpus_per_instance = 0;
  int data_parallel_ranks = 1;
  double kv_capacity_tokens = 0;      // per instance, all ranks
  double prefill_requests_per_s = 0;  // an instance doing only prefill, budget full
  double decode_requests_per_s = 0;   // an instance doing only decode, batch full
  double requests_per_s = 0;          // what the pool's role sustains per instance
  double decode_batch_per_rank = 0;   // the batch that capacity assumed (KV may cap it)
  double prefill_tokens_per_s = 0;    // prompt tokens computed per second, budget full
  double decode_tokens_per_s = 0;     // output tokens per second, batch full
  // The busiest GPU's tokens over the mean those two steps were priced at (Report::imbalance).
  double prefill_imbalance = 1;
  double decode_imbalance = 1;
  double nodes_per_instance = 1;
  std::string shortfall;  // non-empty: weights and activations leave no KV room
};

struct PoolResult {
  std::string role;  // "aggregated", "prefill" or "decode"
  int instances = 1;
  PoolCapacity capacity;
  std::int64_t steps = 0;
  double busy_fraction = 0;  // busy time over the run, averaged over instances
  double mean_decode_batch = 0;
  int shapes_simulated = 0;
  double usd_per_gpu_hour = 0;
};

struct ServingOutcome {
  std::string name;
  bool disaggregated = false;
  std::vector<PoolResult> pools;
  ServingMetrics metrics;
  double offered_requests_per_s = 0;           // 0 for a closed loop
  double kv_transfer_s = 0;                    // mean prefill-to-decode transfer per request
  double prefill_per_decode = 0;               // instances ratio (disaggregated)
  double rate_matched_prefill_per_decode = 0;  // decode capacity / prefill capacity
  int gpus = 0;
  double usd_per_hour = 0;  // 0 when no pool has a price
  bool priced = false;
  std::int64_t oversized_prompts = 0, never_fit = 0;
  std::string rejection;                  // non-empty: not simulated (memory)
  SlaSpec sla;                            // the limits it was held to (none: empty)
  std::vector<std::string> sla_failures;  // each missed SLA term, with figures
  std::vector<RequestRecord> records;
  double simulate_seconds = 0;  // wall time of the simulation (filled by callers that time it)
  bool meets_sla() const { return rejection.empty() && sla_failures.empty(); }
};

// The capacity of one instance of `scenario` for the traffic's mean lengths.
PoolCapacity pool_capacity(const ScenarioSpec& scenario, ServingRole role,
                           const BatchingSpec& batching, double memory_fraction, double mean_input,
                           double mean_prefill, double mean_output, StepPricer& pricer);

// Throws ServingBudgetError (the CLI's exit 2 at /traffic) when Poisson traffic made no request;
// a log always holds one and a closed loop draws its own.
void refuse_no_requests(const TrafficSpec& traffic, const std::vector<Request>& requests);

// Instances that serve `rate` requests/s at kPoolTargetUtilisation of `capacity` each (at least 1).
int pool_instances(double rate, double capacity);

// Seconds to move one request's KV cache from a prefill GPU to a decode GPU: NIC latency + bytes
// over the slower of the two pools' NICs at the collective efficiency.
double kv_transfer_seconds(const ScenarioSpec& prefill, const ScenarioSpec& decode,
                           std::int64_t input_tokens);

ServingOutcome run_serving(const ServingSpec& spec);
// Requests/s the traffic offers (Poisson rate, or a log's count over its span; 0 closed loop).
double offered_requests_per_s(const TrafficSpec& traffic, const std::vector<Request>& requests);
// Mean prompt, computed prompt (after the prefix cache) and output tokens per request.
std::array<double, 3> mean_request_lengths(const TrafficSpec& traffic,
                                           const std::vector<Request>& requests);
// The same with the pools' step tables given (a plan reuses one per deployment); `decode` is used
// only when the spec is disaggregated and may be `first` itself.
ServingOutcome run_serving(const ServingSpec& spec, const std::vector<Request>& requests,
                           StepPricer& first, StepPricer& decode);

}  // namespace moesim::sim
