#pragma once
// Latency percentiles and throughput of a serving run, from its request records.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/serving/serving_sim.hpp"

namespace moesim::sim {

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, mean = 0;  // seconds
  std::int64_t count = 0;
};

// Nearest rank (the ceil(q x n)-th smallest); zeros when `values` is empty.
Percentiles percentiles(std::vector<double> values);

// The 0-based index of the nearest-rank q-quantile among `n` sorted values (n > 0).
std::size_t nearest_rank_index(std::size_t n, double q);

struct ServingMetrics {
  std::int64_t requests = 0, completed = 0;
  Percentiles ttft;      // arrival to first token
  Percentiles tpot;      // (finish - first token) / (output - 1), requests with output > 1
  Percentiles e2e;       // arrival to last token
  Percentiles queueing;  // arrival to the first step that computed any of it
  double window_s = 0;   // first arrival to last finish
  double requests_per_s = 0;
  double output_tokens_per_s = 0;
  double input_tokens_per_s = 0;
  double output_tokens_per_s_per_gpu = 0;
  double output_tokens_per_s_per_user = 0;  // 1 / median TPOT: what one stream sees
};

// `records`: every request of the service (all instances); `gpus`: the whole service's.
ServingMetrics summarize_serving(const std::vector<RequestRecord>& records, int gpus);

}  // namespace moesim::sim
