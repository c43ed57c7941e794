// The dense part of a block on one GPU: attention (projections and core), the dense MLP or the
// shared experts, and the elementwise kernels between them, each on its own roofline.
#include <algorithm>

#include "sim/cost/attention_cost.hpp"
#include "sim/cost/layer_cost_model.hpp"

namespace moesim::sim {

double LayerCostModel::dense_time(double attention_tokens, bool moe_layer) const {
  return block_time(attention_tokens, moe_layer, true);
}

// What the shared experts add to the block: the same roofline with and without them, so their
// weights and FLOPs are priced at the rates the block's own pricing gives them.
double LayerCostModel::shared_experts_time(double attention_tokens) const {
  if (s_.model.shared_experts <= 0) return 0;
  return block_time(attention_tokens, true, true) - block_time(attention_tokens, true, false);
}

double LayerCostModel::block_time(double attention_tokens, bool moe_layer, bool mlp) const {
  // A prompt chunk in the step rides in its rows (tokens_per_gpu_per_micro_batch); its attention
  // is a prefill's.
  const WorkloadSpec& w = s_.workload;
  const double prompt =
      w.step_prompt_tokens / s_.parallelism.micro_batches / s_.parallelism.pipeline.micro_batches;
  const DenseWork work =
      dense_work(s_.model, {.tokens = attention_tokens - prompt,
                            .tensor_parallel = s_.parallelism.attention_tensor_parallel,
                            .decode = w.kind == WorkloadKind::Decode,
                            .context = static_cast<double>(w.context_tokens),
                            .queries_per_sequence = w.queries_per_sequence(),
                            .moe_layer = moe_layer,
                            .mlp = mlp,
                            .prefill_tokens = prompt,
                            .prefill_context = static_cast<double>(w.mixed_prefill.input_tokens)});
  // The projections and the attention core are separate kernels, each bound by its own roofline.
  // Each runs at its own dtype's rate: attention projections at attention_weight_bytes', the core
  // at the KV cache's (FP8 only with a one-byte cache), the MLP at the weights'. FP8 runs at the
  // profile's measured FP8/BF16 time at these rows and the block's weights per rank (2 FLOPs a
  // weight a row), else at the datasheet's.
  const double bf16_rate = compute_rate() * (s_.model.weight_bytes <= 1 ? bf16_over_fp8() : 1.0);
  const double attention_projection_flops =
      2 * attention_params_per_rank(s_.model, s_.parallelism.attention_tensor_parallel) *
      attention_tokens;
  const double mlp_flops = work.flops - work.attention_flops - attention_projection_flops;
  const double block_weights =
      attention_tokens > 0 ? (attention_projection_flops + mlp_flops) / (2 * attention_tokens) : 0;
  const double fp8_time = dense_fp8_over_bf16(attention_tokens, block_weights);
  const auto rate_at = [&](double bytes) { return bytes <= 1 ? bf16_rate / fp8_time : bf16_rate; };
  // One-byte weights of a block-scaled checkpoint pay its ratio; the core's FP8 KV is no such GEMM.
  const double block = fp8_block_factor(attention_tokens, block_weights);
  const auto weights_rate_at = [&](double bytes) {
    return bytes == 1 ? rate_at(bytes) / block : rate_at(bytes);
  };
  const double projections =
      std::max(attention_projection_flops / weights_rate_at(s_.model.attention_bytes_per_weight()) +
                   mlp_flops / weights_rate_at(s_.model.weight_bytes),
               work.weight_bytes / memory_rate());
  const double core_rate = rate_at(kv_element_bytes(s_.model));
  const double core =
      (work.attention_flops - work.causal_attention_flops) / core_rate +
      work.causal_attention_flops / (core_rate * causal_attention_share(work.causal_prompt));
  return projections + std::max(core, work.kv_bytes / memory_rate()) +
         work.elementwise_bytes / memory_rate();
}

double LayerCostModel::causal_attention_share(double prompt_tokens) const {
  const AttentionCoreCurve* curve = profile_ != nullptr ? profile_->attention_core() : nullptr;
  return curve != nullptr && prompt_tokens > 0
             ? attention_core_share(*curve, causal_kernel_prompt(prompt_tokens))
             : 1.0;
}

double LayerCostModel::causal_kernel_prompt(double prompt_tokens) const {
  // Under context parallelism each kernel call is one chunk of the prompt against another.
  return prompt_tokens / std::max(1, s_.parallelism.context_parallel);
}

}  // namespace moesim::sim
