#include "sim/serving/serving_run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "sim/cost/attention_cost.hpp"
#include "sim/cost/memory_model.hpp"
#include "sim/serving/traffic_budget.hpp"

namespace moesim::sim {
namespace {

struct MeanLengths {
  double input = 0, prefill = 0, output = 0;
};

MeanLengths mean_lengths(const TrafficSpec& traffic, const std::vector<Request>& requests) {
  MeanLengths m;
  if (requests.empty()) {  // closed loop: the distributions' means
    m.input = traffic.input.mean();
    m.output = traffic.output.mean();
    m.prefill = m.input * (1 - traffic.prefix_cache_hit_rate);
    return m;
  }
  for (const auto& r : requests) {
    m.input += static_cast<double>(r.input_tokens);
    m.prefill += static_cast<double>(r.prefill_tokens());
    m.output += static_cast<double>(r.output_tokens);
  }
  const auto n = static_cast<double>(requests.size());
  return {m.input / n, m.prefill / n, m.output / n};
}

// Requests per second the traffic offers: the Poisson rate, or a log's count over its span.
double offered_rate(const TrafficSpec& traffic, const std::vector<Request>& requests) {
  if (traffic.arrival == ArrivalKind::Poisson) return traffic.rate_per_s;
  if (traffic.arrival != ArrivalKind::Log || requests.size() < 2) return 0;
  const double span = requests.back().arrival_s - requests.front().arrival_s;
  return span > 0 ? static_cast<double>(requests.size() - 1) / span : 0;
}

// Round-robin by position: instance k serves requests k, k + n, k + 2n, ...
std::vector<std::vector<Request>> split(const std::vector<Request>& requests, int instances) {
  std::vector<std::vector<Request>> parts(static_cast<std::size_t>(instances));
  for (std::size_t i = 0; i < requests.size(); ++i) parts[i % parts.size()].push_back(requests[i]);
  return parts;
}

InstanceShape instance_shape(const PoolCapacity& c) {
  return {c.data_parallel_ranks, c.kv_capacity_tokens};
}

// Plays every instance of a pool over its share; records come back in request-id order.
std::vector<RequestRecord> play_pool(const std::vector<Request>& requests, ServingRole role,
                                     const BatchingSpec& batching, PoolResult& pool,
                                     StepPricer& pricer, ServingOutcome& outcome) {
  std::vector<RequestRecord> records;
  double busy = 0, end = 0, batch = 0;
  for (const auto& part : split(requests, pool.instances)) {
    ServingRun run = simulate_serving(part, role, batching, instance_shape(pool.capacity), pricer);
    pool.steps += run.steps;
    busy += run.busy_s;
    end = std::max(end, run.end_s);
    batch += run.mean_decode_batch / pool.instances;
    outcome.oversized_prompts += run.oversized_prompts;
    outcome.never_fit += run.never_fit;
    records.insert(records.end(), run.records.begin(), run.records.end());
  }
  pool.busy_fraction = end > 0 ? busy / (end * pool.instances) : 0;
  pool.mean_decode_batch = batch;
  std::sort(records.begin(), records.end(),
            [](const RequestRecord& a, const RequestRecord& b) { return a.id < b.id; });
  return records;
}

void check_sla(const SlaSpec& sla, ServingOutcome& o) {
  const auto term = [&](const std::optional<double>& limit, double value, const char* name) {
    if (limit && !(value <= *limit))
      o.sla_failures.push_back(
          fmt::format("{} p90 {:.1f} ms > {:.1f} ms", name, value * 1e3, *limit * 1e3));
  };
  term(sla.ttft_p90_s, o.metrics.ttft.p90, "TTFT");
  term(sla.tpot_p90_s, o.metrics.tpot.p90, "TPOT");
  term(sla.e2e_p90_s, o.metrics.e2e.p90, "E2E");
  if (o.never_fit > 0)
    o.sla_failures.push_back(
        fmt::format("{} requests need more KV cache than an instance holds", o.never_fit));
}

// A rejection when "auto" sized a pool past the limit, else "".
std::string too_many_instances(const std::vector<PoolResult>& pools) {
  for (const auto& pool : pools)
    if (pool.instances > kMaxServingInstances)
      return fmt::format(
          "{} pool: \"auto\" needs more than {} instances at this rate; give "
          "each instance more GPUs or lower the rate",
          pool.role, kMaxServingInstances);
  return "";
}

PoolResult make_pool(const char* role, const PoolSpec& spec, const PoolCapacity& capacity,
                     int instances) {
  PoolResult pool;
  pool.role = role;
  pool.instances = instances;
  pool.capacity = capacity;
  pool.usd_per_gpu_hour = spec.scenario.price.usd_per_gpu_hour.value_or(0);
  return pool;
}

void finish_outcome(const ServingSpec& spec, ServingOutcome& o) {
  for (const auto& p : o.pools) {
    const int gpus = p.instances * p.capacity.gpus_per_instance;
    o.gpus += gpus;
    o.usd_per_hour += gpus * p.usd_per_gpu_hour;
    o.priced = o.priced || p.usd_per_gpu_hour > 0;
  }
  o.sla = spec.sla;
  if (!o.rejection.empty()) return;
  o.metrics = summarize_serving(o.records, o.gpus);
  check_sla(spec.sla, o);
}

ServingOutcome run_aggregated(const ServingSpec& spec, const std::vector<Request>& requests,
                              const MeanLengths& mean, double rate, StepPricer& pricer) {
  ServingOutcome o;
  o.offered_requests_per_s = rate;
  const PoolCapacity capacity =
      pool_capacity(spec.aggregated.scenario, ServingRole::Aggregated, spec.batching,
                    spec.memory_fraction, mean.input, mean.prefill, mean.output, pricer);
  o.pools.push_back(
      make_pool("aggregated", spec.aggregated, capacity,
                spec.aggregated.instances > 0
                    ? spec.aggregated.instances
                    : pool_instances(o.offered_requests_per_s, capacity.requests_per_s)));
  if (!capacity.shortfall.empty()) {
    o.rejection = capacity.shortfall;
    return o;
  }
  if (o.rejection = too_many_instances(o.pools); !o.rejection.empty()) return o;
  PoolResult& pool = o.pools.back();
  if (spec.traffic.arrival == ArrivalKind::Concurrency) {
    // Users spread over the instances; each instance is its own closed loop.
    double busy = 0, end = 0;
    for (int k = 0; k < pool.instances; ++k) {
      TrafficSpec share = spec.traffic;
      share.users = spec.traffic.users / pool.instances + (k < spec.traffic.users % pool.instances);
      share.seed = spec.traffic.seed + static_cast<std::uint64_t>(k);
      if (share.users == 0) continue;
      ServingRun run = simulate_closed_loop(share, spec.batching, instance_shape(capacity), pricer);
      pool.steps += run.steps;
      busy += run.busy_s;
      end = std::max(end, run.end_s);
      pool.mean_decode_batch += run.mean_decode_batch / pool.instances;
      for (auto& r : run.records)
        r.id = static_cast<std::int64_t>(o.records.size()), o.records.push_back(r);
    }
    pool.busy_fraction = end > 0 ? busy / (end * pool.instances) : 0;
  } else {
    o.records = play_pool(requests, ServingRole::Aggregated, spec.batching, pool, pricer, o);
  }
  return o;
}

// Prefill pool, KV transfer, decode pool: a request's first token reaches the user when its KV
// has landed on the decode side (the decode server streams it, as in SGLang's and Dynamo's P/D).
ServingOutcome run_disaggregated(const ServingSpec& spec, const std::vector<Request>& requests,
                                 const MeanLengths& mean, double rate, StepPricer& prefill_pricer,
                                 StepPricer& decode_pricer) {
  ServingOutcome o;
  o.disaggregated = true;
  o.offered_requests_per_s = rate;
  const PoolCapacity prefill_capacity =
      pool_capacity(spec.prefill.scenario, ServingRole::PrefillOnly, spec.batching,
                    spec.memory_fraction, mean.input, mean.prefill, mean.output, prefill_pricer);
  const PoolCapacity decode_capacity =
      pool_capacity(spec.decode.scenario, ServingRole::DecodeOnly, spec.batching,
                    spec.memory_fraction, mean.input, mean.prefill, mean.output, decode_pricer);
  o.pools.push_back(make_pool("prefill", spec.prefill, prefill_capacity,
                              spec.prefill.instances > 0
                                  ? spec.prefill.instances
                                  : pool_instances(rate, prefill_capacity.requests_per_s)));
  o.pools.push_back(make_pool("decode", spec.decode, decode_capacity,
                              spec.decode.instances > 0
                                  ? spec.decode.instances
                                  : pool_instances(rate, decode_capacity.requests_per_s)));
  if (o.rejection = too_many_instances(o.pools); !o.rejection.empty()) return o;
  o.prefill_per_decode = static_cast<double>(o.pools[0].instances) / o.pools[1].instances;
  if (prefill_capacity.requests_per_s > 0)
    o.rate_matched_prefill_per_decode =
        decode_capacity.requests_per_s / prefill_capacity.requests_per_s;
  o.rejection = !prefill_capacity.shortfall.empty()  ? "prefill pool: " + prefill_capacity.shortfall
                : !decode_capacity.shortfall.empty() ? "decode pool: " + decode_capacity.shortfall
                                                     : "";
  if (!o.rejection.empty()) return o;
  auto prefilled =
      play_pool(requests, ServingRole::PrefillOnly, spec.batching, o.pools[0], prefill_pricer, o);
  // Decode arrivals: the prefill's end plus the transfer, in the order they land.
  std::vector<Request> landed;
  double transfer_sum = 0;
  for (const auto& r : prefilled) {
    if (r.finish_s < 0) continue;  // never fit the prefill pool
    Request d{r.id, 0, r.input_tokens, r.output_tokens, r.cached_tokens, -1};
    const double transfer =
        kv_transfer_seconds(spec.prefill.scenario, spec.decode.scenario, r.input_tokens);
    transfer_sum += transfer;
    d.arrival_s = r.first_token_s + transfer;
    landed.push_back(d);
  }
  std::stable_sort(landed.begin(), landed.end(),
                   [](const Request& a, const Request& b) { return a.arrival_s < b.arrival_s; });
  o.kv_transfer_s = landed.empty() ? 0 : transfer_sum / static_cast<double>(landed.size());
  const auto decoded =
      play_pool(landed, ServingRole::DecodeOnly, spec.batching, o.pools[1], decode_pricer, o);
  // The service's view: arrival and queueing at the prefill pool, tokens from the decode pool.
  o.records = prefilled;
  std::size_t d = 0;
  for (auto& r : o.records) {
    while (d < decoded.size() && decoded[d].id < r.id) ++d;
    if (d < decoded.size() && decoded[d].id == r.id) {
      r.first_token_s = decoded[d].first_token_s;
      r.finish_s = decoded[d].finish_s;
    } else {
      r.finish_s = -1;
    }
  }
  return o;
}

}  // namespace

ServingOutcome run_serving(const ServingSpec& spec, const std::vector<Request>& requests,
                           StepPricer& first, StepPricer& decode) {
  const MeanLengths mean = mean_lengths(spec.traffic, requests);
  const double rate = offered_rate(spec.traffic, requests);
  ServingOutcome o = spec.disaggregated
                         ? run_disaggregated(spec, requests, mean, rate, first, decode)
                         : run_aggregated(spec, requests, mean, rate, first);
  o.name = spec.name;
  finish_outcome(spec, o);
  return o;
}

ServingOutcome run_serving(const ServingSpec& spec) {
  const auto requests = generate_requests(spec.traffic);
  refuse_no_requests(spec.traffic, requests);
  if (!spec.disaggregated) {
    StepTimeTable table(resolve_inputs(spec.aggregated.scenario));
    auto o = run_serving(spec, requests, table, table);
    o.pools[0].shapes_simulated = table.shapes_simulated();
    return o;
  }
  StepTimeTable prefill(resolve_inputs(spec.prefill.scenario));
  StepTimeTable decode(resolve_inputs(spec.decode.scenario));
  auto o = run_serving(spec, requests, prefill, decode);
  o.pools[0].shapes_simulated = prefill.shapes_simulated();
  o.pools[1].shapes_simulated = decode.shapes_simulated();
  return o;
}

void refuse_no_requests(const TrafficSpec& traffic, const std::vector<Request>& requests) {
  if (!requests.empty() || traffic.arrival != ArrivalKind::Poisson) return;
  throw ServingBudgetError(fmt::format(
      "expected at least one request: Poisson arrivals at {} requests/s for {} s (seed {}) made "
      "none; a longer duration_s or a higher rate_per_s",
      traffic.rate_per_s, traffic.duration_s, traffic.seed));
}

double offered_requests_per_s(const TrafficSpec& traffic, const std::vector<Request>& requests) {
  return offered_rate(traffic, requests);
}

std::array<double, 3> mean_request_lengths(const TrafficSpec& traffic,
                                           const std::vector<Request>& requests) {
  const MeanLengths m = mean_lengths(traffic, requests);
  return {m.input, m.prefill, m.output};
}

int pool_instances(double rate, double capacity) {
  if (rate <= 0 || capacity <= 0) return 1;
  // Past the limit it says one more than the limit: too_many_instances turns that into the
  // rejection (a double past int's range must never be cast).
  const double needed = std::ceil(rate / (kPoolTargetUtilisation * capacity));
  return needed > kMaxServingInstances ? kMaxServingInstances + 1
                                       : std::max(1, static_cast<int>(needed));
}

PoolCapacity pool_capacity(const ScenarioSpec& scenario, ServingRole role,
                           const BatchingSpec& batching, double memory_fraction, double mean_input,
                           double mean_prefill, double mean_output, StepPricer& pricer) {
  PoolCapacity c;
  c.gpus_per_instance = scenario.cluster.gpus();
  c.data_parallel_ranks = scenario.parallelism.attention_data_parallel;
  c.nodes_per_instance = scenario.cluster.nodes;
  // Weights and the larger of the two phases' activations at the batch limits; the rest is KV.
  ScenarioSpec probe = scenario;
  probe.workload.kind = WorkloadKind::Decode;
  probe.workload.tokens_per_gpu = batching.max_batch_per_rank;
  probe.workload.context_tokens = 0;
  const MemoryBreakdown decode = memory_per_gpu(probe);
  probe.workload.kind = WorkloadKind::Prefill;
  probe.workload.tokens_per_gpu = batching.token_budget_per_rank;
  const MemoryBreakdown prefill = memory_per_gpu(probe);
  const double usable = scenario.cluster.device.hbm_bytes * memory_fraction;
  const double free = usable - decode.weights - std::max(decode.activations, prefill.activations);
  const double kv_per_token =
      kv_bytes_per_rank(scenario.model, scenario.parallelism.attention_tensor_parallel) *
      scenario.model.layers;
  constexpr double kGiBytes = 1024.0 * 1024.0 * 1024.0;
  if (free <= 0 || kv_per_token <= 0) {
    c.shortfall = fmt::format(
        "memory: weights {:.1f} GiB and activations {:.1f} GiB per GPU leave no KV cache room in "
        "{:.1f} GiB ({:.0f}% of a {})",
        decode.weights / kGiBytes, std::max(decode.activations, prefill.activations) / kGiBytes,
        usable / kGiBytes, memory_fraction * 100, scenario.cluster.device.name);
    return c;
  }
  c.kv_capacity_tokens = std::floor(free / kv_per_token) * c.data_parallel_ranks;
  const double ranks = c.data_parallel_ranks;
  // Prefill flat out: a full token budget every step.
  const double budget = static_cast<double>(batching.token_budget_per_rank);
  const double prefill_step = pricer.step_seconds({budget, mean_input, 0, 0});
  c.prefill_tokens_per_s = budget * ranks / prefill_step;
  c.prefill_imbalance = pricer.imbalance(false, budget, mean_input);
  c.prefill_requests_per_s = c.prefill_tokens_per_s / std::max(1.0, mean_prefill);
  // Decode flat out: the batch limit, or what the KV cache holds at full length.
  const double per_request_kv = mean_input + mean_output;
  c.decode_batch_per_rank =
      std::max(1.0, std::min<double>(batching.max_batch_per_rank,
                                     std::floor(c.kv_capacity_tokens / ranks / per_request_kv)));
  const double decode_step =
      pricer.step_seconds({0, 0, c.decode_batch_per_rank, mean_input + mean_output / 2});
  c.decode_tokens_per_s =
      c.decode_batch_per_rank * ranks * pricer.accepted_tokens_per_sequence() / decode_step;
  c.decode_imbalance =
      pricer.imbalance(true, c.decode_batch_per_rank, mean_input + mean_output / 2);
  c.decode_requests_per_s = c.decode_tokens_per_s / std::max(1.0, mean_output - 1);
  switch (role) {
    case ServingRole::PrefillOnly:
      c.requests_per_s = c.prefill_requests_per_s;
      break;
    case ServingRole::DecodeOnly:
      c.requests_per_s = c.decode_requests_per_s;
      break;
    case ServingRole::Aggregated:  // one instance takes turns: the times add
      c.requests_per_s = 1.0 / (1.0 / c.prefill_requests_per_s + 1.0 / c.decode_requests_per_s);
      break;
  }
  return c;
}

double kv_transfer_seconds(const ScenarioSpec& prefill, const ScenarioSpec& decode,
                           std::int64_t input_tokens) {
  const auto nic_rate = [](const ScenarioSpec& s) {
    const double line =
        s.cluster.nic_link.bandwidth > 0 ? s.cluster.nic_link.bandwidth : s.cluster.nic.bandwidth;
    const double efficiency = s.cluster.nic_link.efficiency > 0 ? s.cluster.nic_link.efficiency
                                                                : s.profile.network_efficiency;
    return line * efficiency;
  };
  // Each prefill TP rank sends its share of the cache in parallel over its own NIC.
  const double bytes =
      static_cast<double>(input_tokens) *
      kv_bytes_per_rank(prefill.model, prefill.parallelism.attention_tensor_parallel) *
      prefill.model.layers;
  const double rate = std::min(nic_rate(prefill), nic_rate(decode));
  return prefill.cluster.nic.latency + decode.cluster.nic.latency + (rate > 0 ? bytes / rate : 0);
}

}  // namespace moesim::sim
