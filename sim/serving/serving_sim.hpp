#pragma once
// Continuous batching on the event engine: requests arrive, wait, are admitted under a token
// budget, a batch limit and the KV cache's capacity, are prefilled (whole or in chunks), then
// decode one step at a time until their output is done. Each step's time comes from a StepPricer.
// One deployment (an instance: its attention data-parallel ranks step together); a pool of several
// is simulated instance by instance.
#include <cstdint>
#include <vector>

#include "sim/serving/request_workload.hpp"
#include "sim/serving/step_pricer.hpp"

namespace moesim::sim {

// What an instance does: both phases, or one side of a prefill/decode split.
enum class ServingRole { Aggregated, PrefillOnly, DecodeOnly };

struct BatchingSpec {
  int max_batch_per_rank = 256;               // sequences in a step, per attention-DP rank
  std::int64_t token_budget_per_rank = 8192;  // tokens computed in a step, per rank
  bool chunked_prefill = false;               // split prompts over steps to fill the budget
};

struct InstanceShape {
  int data_parallel_ranks = 1;  // attention-DP ranks of the instance
  // KV cache tokens the instance can hold (all ranks); a request reserves prompt + output on
  // admission and frees it when done.
  double kv_capacity_tokens = 1e18;
};

// One request's life. Times in seconds; -1 when it did not happen in the run.
struct RequestRecord {
  std::int64_t id = 0;
  double arrival_s = 0;
  double scheduled_s = -1;    // first step that computed any of it
  double first_token_s = -1;  // end of the step that finished its prefill (decode-only: arrival)
  double finish_s = -1;
  std::int64_t input_tokens = 0, output_tokens = 0, cached_tokens = 0;
};

struct ServingRun {
  std::vector<RequestRecord> records;  // in request-id order
  std::int64_t steps = 0;
  double busy_s = 0;                   // time the instance spent in steps
  double end_s = 0;                    // when the last request finished
  double mean_requests_in_system = 0;  // time-average over [0, end_s] (Little's law: L = lambda W)
  double mean_decode_batch = 0;        // per rank, over decode-carrying steps
  std::int64_t oversized_prompts = 0;  // prompts over the budget, prefilled alone (no chunking)
  std::int64_t never_fit = 0;          // requests whose KV alone exceeds the capacity: dropped
};

// Open loop: `requests` sorted by arrival (generate_requests). DecodeOnly treats each arrival as
// a prefilled request whose first token exists and whose KV has just landed.
ServingRun simulate_serving(const std::vector<Request>& requests, ServingRole role,
                            const BatchingSpec& batching, const InstanceShape& instance,
                            StepPricer& pricer);

// Closed loop: `traffic.users` users, each sending its next request when the last finishes, until
// `traffic.duration_s` (or max_requests); requests drawn from the traffic's distributions.
ServingRun simulate_closed_loop(const TrafficSpec& traffic, const BatchingSpec& batching,
                                const InstanceShape& instance, StepPricer& pricer);

}  // namespace moesim::sim
