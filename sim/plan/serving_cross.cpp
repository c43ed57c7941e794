#include "sim/plan/serving_cross.hpp"

#include <fmt/format.h>

#include <map>

#include "sim/plan/serving_pool_pairs.hpp"
#include "sim/spec/limits.hpp"

namespace moesim::sim {

std::vector<ServingPlanOutcome> cross_pool_shapes(const PlanSpec& plan,
                                                  const std::vector<ServingPlanOutcome>& sized,
                                                  const std::vector<PoolCapacity>& capacities,
                                                  double rate) {
  std::vector<ServingPlanOutcome> crossed;
  std::map<int, std::vector<std::size_t>> by_batch;
  for (std::size_t i = 0; i < sized.size(); ++i) {
    if (sized[i].reason.empty())
      by_batch[sized[i].max_batch_per_rank].push_back(i);
    else
      crossed.push_back(sized[i]);
  }
  for (const auto& [batch, members] : by_batch) {
    std::vector<PoolShape> shapes;
    for (std::size_t i : members) {
      const auto& c = plan.candidates[static_cast<std::size_t>(sized[i].candidate)];
      shapes.push_back({sized[i].candidate, capacities[i].gpus_per_instance, c.usd_per_gpu_hour,
                        capacities[i].prefill_requests_per_s, capacities[i].decode_requests_per_s});
    }
    for (const PoolPair& pair : pair_pool_shapes(shapes, rate, kMaxPoolPairs)) {
      ServingPlanOutcome o = sized[members[pair.decode]];
      const ServingPlanOutcome& prefill = sized[members[pair.prefill]];
      o.prefill_candidate = prefill.candidate;
      o.ttft_floor_s = prefill.ttft_floor_s;
      o.prefill_gpus_per_instance = prefill.prefill_gpus_per_instance;
      o.prefill_instances = pair.prefill_instances;
      o.decode_instances = pair.decode_instances;
      o.gpus = pair.gpus;
      o.usd_per_hour = pair.usd_per_hour;
      if (pair.prefill != pair.decode)
        o.label = fmt::format("P {} / D {}, batch {}",
                              plan.candidates[static_cast<std::size_t>(prefill.candidate)].label,
                              plan.candidates[static_cast<std::size_t>(o.candidate)].label, batch);
      if (o.gpus > kMaxGpus) {
        o.verdict = ServingVerdict::Throughput;
        o.reason = fmt::format("throughput: {} GPUs, over the {}-GPU limit", o.gpus, kMaxGpus);
      }
      crossed.push_back(std::move(o));
    }
  }
  return crossed;
}

}  // namespace moesim::sim
