#include "sim/cost/memory_model.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "base/config_error.hpp"
#include "sim/cost/attention_cost.hpp"

namespace moesim::sim {

StageParams stage_params(const ScenarioSpec& s, int stage) {
  const ModelSpec& m = s.model;
  const ParallelismSpec& p = s.parallelism;
  const int stages = p.pipeline.size;
  const int per_stage = m.layers / stages;
  const int first_moe = m.layers - m.moe_layers;  // dense blocks come first
  const int begin = stage * per_stage;
  const int end = begin + per_stage;
  const int dense_layers = std::clamp(first_moe - begin, 0, per_stage);
  const int moe_layers = per_stage - dense_layers;
  // The first stage holds the input embedding, the last the LM head (one table when tied and
  // there is one stage).
  const double table = static_cast<double>(m.vocab) * static_cast<double>(m.hidden);
  double embedding = 0;
  if (stages == 1)
    embedding = static_cast<double>(m.embedding_params());
  else if (stage == 0 || end == m.layers)
    embedding = table;
  StageParams params;
  params.dense = (embedding + static_cast<double>(per_stage) * m.attention_params_per_layer +
                  static_cast<double>(dense_layers) * m.dense_mlp_params() +
                  static_cast<double>(moe_layers) *
                      (m.shared_experts * m.shared_expert_params() + m.router_params())) /
                 p.attention_tensor_parallel;
  const int expert_slots_per_gpu = (m.experts + s.placement.redundant_experts) / p.expert_parallel;
  params.experts = static_cast<double>(moe_layers) * expert_slots_per_gpu * m.expert_params() /
                   p.moe_tensor_parallel;
  return params;
}

namespace {

// Mixed-precision Adam (Rajbhandari et al. 2020, ZeRO, section 5.1): bf16 weights and gradients,
// fp32 master weights and two fp32 moments (12 bytes a parameter); ZeRO stage 1 shards the 12
// bytes over the data-parallel replicas of each weight, stage 2 the gradients too, stage 3 the
// weights too. Activations: Korthikanti et al. 2022's 34 bytes x tokens x hidden per layer with
// sequence parallelism (split by TP), for the micro-batches a stage holds at once.
void add_training_memory(const ScenarioSpec& s, const StageParams& params, int stage,
                         MemoryBreakdown& memory) {
  const ParallelismSpec& p = s.parallelism;
  const double dense_replicas = p.weight_replicas();  // CP ranks hold the same weights
  const double expert_replicas =
      static_cast<double>(p.stage_gpus(s.cluster.gpus())) / p.moe_group();
  const double sharded = params.dense / dense_replicas + params.experts / expert_replicas;
  const double whole = params.dense + params.experts;
  const int zero = p.data.zero_stage;
  if (zero >= 3) memory.weights = sharded * s.model.weight_bytes;
  memory.gradients = 2 * (zero >= 2 ? sharded : whole);
  memory.optimizer = 12 * (zero >= 1 ? sharded : whole);
  // 1F1B: stage s holds the activations of (stages - s) micro-batches at most; interleaving adds
  // (p - 1) / (p v) of that (Narayanan et al. 2021, section 2.2).
  const PipelineSpec& pipe = p.pipeline;
  double in_flight = std::min(pipe.size - stage, pipe.micro_batches);
  if (pipe.schedule == PipelineSchedule::Interleaved)
    in_flight *= 1.0 + (pipe.size - 1.0) / (pipe.size * pipe.virtual_stages);
  const double tokens = static_cast<double>(s.workload.tokens_per_gpu) / pipe.micro_batches;
  const double layers = static_cast<double>(s.model.layers) / pipe.size;
  memory.activations = 34.0 * tokens * static_cast<double>(s.model.hidden) * layers * in_flight /
                       p.attention_tensor_parallel;
}

MemoryBreakdown stage_memory(const ScenarioSpec& s, int stage) {
  const ModelSpec& m = s.model;
  const StageParams params = stage_params(s, stage);
  MemoryBreakdown memory;
  memory.weights = (params.dense + params.experts) * m.weight_bytes;
  const double tokens = static_cast<double>(s.workload.tokens_per_gpu);
  const int tp = s.parallelism.attention_tensor_parallel;
  const double serving_activations =
      2.0 * tokens *
      std::max<double>(static_cast<double>(m.hidden), static_cast<double>(m.expert_ffn) * m.top_k) *
      4;
  switch (s.workload.kind) {
    case WorkloadKind::Training:
      add_training_memory(s, params, stage, memory);
      break;
    case WorkloadKind::Prefill:
      // Per architecture: GQA splits KV heads over TP ranks, MLA's latent is on every rank.
      memory.kv_cache = tokens * kv_bytes_per_rank(m, tp) * m.layers;
      memory.activations = serving_activations;
      break;
    case WorkloadKind::Decode:
      // tokens_per_gpu sequences, each holding context_tokens of KV.
      memory.kv_cache = tokens * static_cast<double>(s.workload.context_tokens) *
                        kv_bytes_per_rank(m, tp) * m.layers;
      memory.activations = serving_activations;
      break;
  }
  return memory;
}

}  // namespace

MemoryBreakdown memory_per_gpu(const ScenarioSpec& s) {
  MemoryBreakdown largest = stage_memory(s, 0);
  for (int stage = 1; stage < s.parallelism.pipeline.size; ++stage) {
    const MemoryBreakdown memory = stage_memory(s, stage);
    if (memory.total() > largest.total()) largest = memory;
  }
  return largest;
}

MemoryFit check_memory_fit(const ScenarioSpec& s) {
  MemoryFit fit;
  fit.memory = memory_per_gpu(s);
  const MemoryBreakdown& memory = fit.memory;
  constexpr double kGiBytes = 1024.0 * 1024.0 * 1024.0;
  const double capacity = s.cluster.device.hbm_bytes;
  if (memory.total() <= capacity) return fit;
  fit.shortfall = fmt::format(
      "the scenario does not fit: it needs {:.1f} GiB per GPU (weights {:.1f}, gradients {:.1f}, "
      "optimizer {:.1f}, KV cache {:.1f}, activations {:.1f}) but a {} has {:.1f} GiB; "
      "use more GPUs, a larger expert_parallel or fewer tokens_per_gpu",
      memory.total() / kGiBytes, memory.weights / kGiBytes, memory.gradients / kGiBytes,
      memory.optimizer / kGiBytes, memory.kv_cache / kGiBytes, memory.activations / kGiBytes,
      s.cluster.device.name, capacity / kGiBytes);
  return fit;
}

MemoryBreakdown ensure_fits(const ScenarioSpec& s) {
  auto fit = check_memory_fit(s);
  if (!fit.fits()) throw ConfigError(s.source, {{"/cluster/device", std::move(fit.shortfall)}});
  return fit.memory;
}

}  // namespace moesim::sim
