#pragma once
// A serving file (docs/serving.md, docs/serving.schema.json): one deployment, aggregated or split
// into prefill and decode pools, its traffic, batching limits and an optional SLA.
#include <optional>
#include <string>

#include "sim/serving/request_workload.hpp"
#include "sim/serving/serving_sim.hpp"
#include "sim/spec/scenario.hpp"

namespace moesim::sim {

// Instances a pool may have, given or sized by "auto".
inline constexpr int kMaxServingInstances = 10'000;

// A pool of identical instances, each one scenario's cluster and parallelism.
struct PoolSpec {
  ScenarioSpec scenario;
  int instances = 1;  // 0: chosen so the pools keep up with the traffic (rate matching)
};

struct SlaSpec {
  std::optional<double> ttft_p90_s, tpot_p90_s, e2e_p90_s;
  bool empty() const { return !ttft_p90_s && !tpot_p90_s && !e2e_p90_s; }
};

struct ServingSpec {
  std::string name;
  bool disaggregated = false;
  PoolSpec aggregated;  // when !disaggregated
  PoolSpec prefill, decode;
  TrafficSpec traffic;
  BatchingSpec batching;
  double memory_fraction =
      0.9;  // share of HBM the serving stack may use (weights, KV, activations)
  SlaSpec sla;
};

// Reads /batching and /sla from `object` (sections of a serving or plan file).
BatchingSpec read_batching(const nlohmann::json* object, const std::string& path,
                           double& memory_fraction, ProblemList& problems);
SlaSpec read_sla(const nlohmann::json* object, const std::string& path, ProblemList& problems);

// Throws ConfigError listing every problem with its path.
ServingSpec parse_serving(const std::string& text, const std::string& source,
                          const std::string& base_dir = "");
ServingSpec load_serving(const std::string& path);

}  // namespace moesim::sim
