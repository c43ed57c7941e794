#include "sim/cost/memory_model.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "base/config_error.hpp"
#include "sim/cost/attention_cost.hpp"

namespace moesim::sim {

MemoryBreakdown memory_per_gpu(const ScenarioSpec& s) {
  const ModelSpec& m = s.model;
  const int expert_slots_per_gpu =
      (m.experts + s.placement.redundant_experts) / s.parallelism.expert_parallel;
  const double tp = s.parallelism.attention_tensor_parallel;
  const int dense_layers = m.layers - m.moe_layers;
  // Everything that is not a routed expert is replicated on each attention-DP rank, split by TP.
  const double dense_params =
      (static_cast<double>(m.embedding_params()) +
       static_cast<double>(m.layers) * m.attention_params_per_layer +
       static_cast<double>(dense_layers) * m.dense_mlp_params() +
       static_cast<double>(m.moe_layers) *
           (m.shared_experts * m.shared_expert_params() + m.router_params())) /
      tp;
  const double expert_params =
      static_cast<double>(m.moe_layers) * expert_slots_per_gpu * m.expert_params();
  const double params = dense_params + expert_params;

  MemoryBreakdown memory;
  memory.weights = params * m.weight_bytes;
  const double tokens = static_cast<double>(s.workload.tokens_per_gpu);
  switch (s.workload.kind) {
    case WorkloadKind::Training: {
      // Mixed-precision Adam: bf16 gradients on every replica, and fp32 master weights plus two
      // fp32 moments (12 bytes a parameter) sharded over the data-parallel replicas of each weight,
      // as Megatron's distributed optimizer (ZeRO stage 1, Rajbhandari et al. 2020, section 5.1)
      // does.
      const double dense_replicas = s.parallelism.attention_data_parallel;
      const double expert_replicas =
          static_cast<double>(s.cluster.gpus()) / s.parallelism.expert_parallel;
      memory.optimizer =
          params * 2 + 12 * (dense_params / dense_replicas + expert_params / expert_replicas);
      memory.activations = 34.0 * tokens * static_cast<double>(m.hidden) * m.layers / tp;
      break;
    }
    case WorkloadKind::Prefill:
      // Per architecture: GQA splits KV heads over TP ranks, MLA's latent is on every rank.
      memory.kv_cache =
          tokens * kv_bytes_per_rank(m, s.parallelism.attention_tensor_parallel) * m.layers;
      memory.activations = 2.0 * tokens *
                           std::max<double>(static_cast<double>(m.hidden),
                                            static_cast<double>(m.expert_ffn) * m.top_k) *
                           4;
      break;
    case WorkloadKind::Decode:
      // tokens_per_gpu sequences, each holding context_tokens of KV.
      memory.kv_cache = tokens * static_cast<double>(s.workload.context_tokens) *
                        kv_bytes_per_rank(m, s.parallelism.attention_tensor_parallel) * m.layers;
      memory.activations = 2.0 * tokens *
                           std::max<double>(static_cast<double>(m.hidden),
                                            static_cast<double>(m.expert_ffn) * m.top_k) *
                           4;
      break;
  }
  return memory;
}

MemoryFit check_memory_fit(const ScenarioSpec& s) {
  MemoryFit fit;
  fit.memory = memory_per_gpu(s);
  const MemoryBreakdown& memory = fit.memory;
  constexpr double kGiBytes = 1024.0 * 1024.0 * 1024.0;
  const double capacity = s.cluster.device.hbm_bytes;
  if (memory.total() <= capacity) return fit;
  fit.shortfall = fmt::format(
      "the scenario does not fit: it needs {:.1f} GiB per GPU (weights {:.1f}, "
      "optimizer {:.1f}, KV cache {:.1f}, activations {:.1f}) but a {} has {:.1f} GiB; "
      "use more GPUs, a larger expert_parallel or fewer tokens_per_gpu",
      memory.total() / kGiBytes, memory.weights / kGiBytes, memory.optimizer / kGiBytes,
      memory.kv_cache / kGiBytes, memory.activations / kGiBytes, s.cluster.device.name,
      capacity / kGiBytes);
  return fit;
}

MemoryBreakdown ensure_fits(const ScenarioSpec& s) {
  auto fit = check_memory_fit(s);
  if (!fit.fits()) throw ConfigError(s.source, {{"/cluster/device", std::move(fit.shortfall)}});
  return fit.memory;
}

}  // namespace moesim::sim
