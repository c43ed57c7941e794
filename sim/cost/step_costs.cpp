// What a step pays besides its blocks' math: the attention-TP collectives inside each block, the
// LM head and sampling, and the floor that launching its kernels sets. Members of LayerCostModel.
#include <algorithm>

#include "sim/cost/group_collectives.hpp"
#include "sim/cost/layer_cost_model.hpp"

namespace moesim::sim {
namespace {

// Serving stacks run a decode step's small TP all-reduces with one-shot custom kernels (vLLM's
// custom_all_reduce, TensorRT-LLM's and SGLang's NVLink all-reduce), a few microseconds each,
// priced at the in-domain collective floor (group_collectives.hpp). Not NCCL's all_reduce from
// PyTorch on the lent H200 x2, 59-67 us per call for 16 KB-4 MB
// (docs/measurements/h200x2-step-floor.json), which no serving stack pays in decode.

// Kernels a fused serving stack launches per block (norms, fused QKV, rope, attention, output
// projection, residual; MLP up, activation, down; MoE router, top-k, dispatch, two grouped GEMMs,
// activation, combine, shared expert), plus the LM head and sampling per step. Estimates of the
// count, used only for the launch floor below.
constexpr int kKernelsPerDenseBlock = 11;
constexpr int kKernelsPerMoeBlock = 18;
constexpr int kKernelsOfTheExpertPath = 7;  // of the MoE block's 18: router to combine
constexpr int kKernelsPerTpBlock = 2;       // the two all-reduces
constexpr int kKernelsPerStep = 5;
// Gap between back-to-back small kernels, measured on H200 at full clocks with PyTorch 2.11
// (profiler/measure_step_floor.py, docs/measurements/h200x2-step-floor.json): 6.7 us launched
// eagerly, 1.2 us replayed from a CUDA graph (kGraphKernelGap), and 9.6 us to replay a one-kernel
// graph.
constexpr double kEagerKernelGap = 6.7e-6;
constexpr double kGraphReplay = 9.6e-6;
// What a real small kernel takes beyond its roofline time: decode-sized GEMMs (1 and 8 rows,
// 22-117 MB of weights) replayed back to back from a CUDA graph on H200 took 0.3-6.8 us more than
// reading their weights at 4.8 TB/s, median 3.4 us (the same file, decode_gemm_in_graph).
// Charged to every kernel the roofline prices; measured curves already hold it.
constexpr double kKernelOverhead = 3.4e-6;

}  // namespace

CollectivePrice LayerCostModel::tp_all_reduce(double attention_tokens) const {
  const int tp = s_.parallelism.attention_tensor_parallel;
  if (tp <= 1 || attention_tokens <= 0) return {0, ""};
  const double bytes = attention_tokens * static_cast<double>(s_.model.hidden) * 2;
  const GroupLayout group = group_layout(s_, GroupKind::AttentionTensor);
  CollectivePrice measured = group_collectives_.price(CollectiveKind::AllReduce, bytes, group);
  // A measured curve (or a group across domains) prices it; inside one domain without a curve,
  // the serving stacks' one-shot floor plus a ring, as docs/decode-model.md describes.
  if (group.crosses_domains() || measured.source.starts_with("measured")) return measured;
  return {kInDomainCollectiveFloor + 2.0 * (tp - 1) / tp * bytes / scale_up_rate(),
          "default: 10 us one-shot floor + ring at scale-up line rate x efficiency"};
}

double LayerCostModel::tp_collectives_time(double attention_tokens, bool moe_block) const {
  // One all-reduce after attention, one after the MLP or MoE block, of the group's bf16
  // activations; under MoE TP the experts' reduce-scatter (and the next all-gather) takes the
  // second one's place.
  const bool sharded_experts = moe_block && s_.parallelism.moe_tensor_parallel > 1;
  return (sharded_experts ? 1 : 2) * tp_all_reduce(attention_tokens).seconds;
}

double LayerCostModel::lm_head_time(double rows) const {
  if (rows <= 0 || s_.model.vocab <= 0) return 0;
  const double tp = s_.parallelism.attention_tensor_parallel;
  // Vocab-parallel under TP, kept in bf16 even in FP8 models (DeepSeek-V3 ships it so).
  const double vocab = static_cast<double>(s_.model.vocab) / tp;
  const double hidden = static_cast<double>(s_.model.hidden);
  const double bf16_rate = compute_rate() * (s_.model.weight_bytes <= 1 ? bf16_over_fp8() : 1.0);
  const double head = std::max(2 * rows * hidden * vocab / bf16_rate,
                               (hidden * vocab * 2 + rows * vocab * 4) / memory_rate());
  // Sampling reads the fp32 logits about three times (softmax, top-k/top-p, the draw).
  const double sampling = 3 * rows * vocab * 4 / memory_rate();
  return head + sampling;
}

double LayerCostModel::adam_step_time(double parameters) const {
  constexpr double kAdamBytesPerParameter = 12 + 12 + 2 + 2;
  return parameters * kAdamBytesPerParameter / memory_rate();
}

LaunchFloor LayerCostModel::launch_floor() const {
  const ModelSpec& m = s_.model;
  const bool tp = s_.parallelism.attention_tensor_parallel > 1;
  const int kernels = (m.layers - m.moe_layers) * kKernelsPerDenseBlock +
                      m.moe_layers * kKernelsPerMoeBlock +
                      (tp ? m.layers * kKernelsPerTpBlock : 0) + kKernelsPerStep;
  // The dense part is always priced by the roofline; the expert path only without curves.
  const int roofline_kernels = m.layers * kKernelsPerDenseBlock + kKernelsPerStep +
                               (curves_ == nullptr ? m.moe_layers * kKernelsOfTheExpertPath : 0);
  const bool graphs = s_.workload.cuda_graphs;
  return {.kernels = kernels,
          .floor = kernels * (graphs ? kGraphKernelGap : kEagerKernelGap),
          .fixed = graphs ? kGraphReplay : 0.0,
          .overhead = roofline_kernels * kKernelOverhead};
}

}  // namespace moesim::sim
