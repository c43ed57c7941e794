#include "sim/serving/serving_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace moesim::sim {

std::size_t nearest_rank_index(std::size_t n, double q) {
  const auto k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n)));
  return std::clamp<std::size_t>(k, 1, n) - 1;
}

Percentiles percentiles(std::vector<double> values) {
  Percentiles p;
  p.count = static_cast<std::int64_t>(values.size());
  if (values.empty()) return p;
  std::sort(values.begin(), values.end());
  const auto rank = [&](double q) { return values[nearest_rank_index(values.size(), q)]; };
  p.p50 = rank(0.50);
  p.p90 = rank(0.90);
  p.p99 = rank(0.99);
  p.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  return p;
}

ServingMetrics summarize_serving(const std::vector<RequestRecord>& records, int gpus) {
  ServingMetrics m;
  m.requests = static_cast<std::int64_t>(records.size());
  std::vector<double> ttft, tpot, e2e, queueing;
  double first_arrival = records.empty() ? 0 : records.front().arrival_s, last_finish = 0;
  double output_tokens = 0, input_tokens = 0;
  for (const auto& r : records) {
    first_arrival = std::min(first_arrival, r.arrival_s);
    if (r.finish_s < 0) continue;
    ++m.completed;
    last_finish = std::max(last_finish, r.finish_s);
    output_tokens += static_cast<double>(r.output_tokens);
    input_tokens += static_cast<double>(r.input_tokens);
    ttft.push_back(r.first_token_s - r.arrival_s);
    e2e.push_back(r.finish_s - r.arrival_s);
    if (r.scheduled_s >= 0) queueing.push_back(r.scheduled_s - r.arrival_s);
    if (r.output_tokens > 1)
      tpot.push_back((r.finish_s - r.first_token_s) / static_cast<double>(r.output_tokens - 1));
  }
  m.ttft = percentiles(std::move(ttft));
  m.tpot = percentiles(std::move(tpot));
  m.e2e = percentiles(std::move(e2e));
  m.queueing = percentiles(std::move(queueing));
  m.window_s = std::max(0.0, last_finish - first_arrival);
  if (m.window_s > 0) {
    m.requests_per_s = static_cast<double>(m.completed) / m.window_s;
    m.output_tokens_per_s = output_tokens / m.window_s;
    m.input_tokens_per_s = input_tokens / m.window_s;
    m.output_tokens_per_s_per_gpu = gpus > 0 ? m.output_tokens_per_s / gpus : 0;
  }
  m.output_tokens_per_s_per_user = m.tpot.p50 > 0 ? 1.0 / m.tpot.p50 : 0;
  return m;
}

}  // namespace moesim::sim
