#include "sim/plan/plan_ranks.hpp"

namespace moesim::sim {

nlohmann::json outcome_figures(const PlanOutcome& o) {
  const Report& r = o.report;
  const MemoryBreakdown& m = r.memory;
  return {{"fits", o.fits},
          {"rejection", o.rejection},
          {"tokens_per_s_per_user", o.tokens_per_s_per_user},
          {"meets_latency", o.meets_latency},
          {"replicas_needed", o.replicas_needed},
          {"network_model", o.network_model},
          {"memory_needed_bytes", o.memory_needed_bytes},
          {"memory_capacity_bytes", o.memory_capacity_bytes},
          {"gpus", r.gpus},
          {"step_time_s", r.step_time_s},
          {"tokens_per_step", r.tokens_per_step},
          {"imbalance", r.imbalance},
          {"routed_tokens", r.routed_tokens},
          {"dropped_tokens", r.dropped_tokens},
          {"device_memory_bytes", r.device_memory_bytes},
          {"memory", {m.weights, m.gradients, m.optimizer, m.kv_cache, m.activations}}};
}

PlanOutcome outcome_from_figures(const PlanCandidate& candidate, const nlohmann::json& f) {
  PlanOutcome o;
  o.network_model = f.at("network_model").get<std::string>();
  o.candidate = o.network_model != "analytic" ? flow_candidate(candidate) : candidate;
  o.fits = f.at("fits").get<bool>();
  o.rejection = f.at("rejection").get<std::string>();
  o.tokens_per_s_per_user = f.at("tokens_per_s_per_user").get<double>();
  o.meets_latency = f.at("meets_latency").get<bool>();
  o.replicas_needed = f.at("replicas_needed").get<int>();
  o.memory_needed_bytes = f.at("memory_needed_bytes").get<double>();
  o.memory_capacity_bytes = f.at("memory_capacity_bytes").get<double>();
  Report& r = o.report;
  r.gpus = f.at("gpus").get<int>();
  r.step_time_s = f.at("step_time_s").get<double>();
  r.tokens_per_step = f.at("tokens_per_step").get<double>();
  r.imbalance = f.at("imbalance").get<double>();
  r.routed_tokens = f.at("routed_tokens").get<double>();
  r.dropped_tokens = f.at("dropped_tokens").get<double>();
  r.device_memory_bytes = f.at("device_memory_bytes").get<double>();
  const auto& m = f.at("memory");
  r.memory = {m.at(0).get<double>(), m.at(1).get<double>(), m.at(2).get<double>(),
              m.at(3).get<double>(), m.at(4).get<double>()};
  return o;
}

PlanCandidate flow_candidate(PlanCandidate candidate) {
  // "auto": flows wherever the flow model's work bounds hold, which "flow" would refuse past them.
  candidate.scenario["network"]["model"] = "auto";
  return candidate;
}

}  // namespace moesim::sim
