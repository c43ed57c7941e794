#pragma once
// The work of a block's dense part (attention + dense MLP or shared experts) on one GPU, by the
// attention architecture, with the attention tensor-parallel split applied exactly once.
#include "sim/spec/model_spec.hpp"

namespace moesim::sim {

// FLOPs of the attention core (scores and weighted values) per query token, head and attended
// position. Decode runs MLA absorbed (FlashMLA), prefill non-absorbed (DeepSeek-V3 paper, 2.1.1).
double attention_core_flops(const AttentionShape& attention, bool decode);

// KV-cache bytes one GPU holds (and a decode step reads) per token and layer under attention TP:
// GQA splits its KV heads over the TP ranks (each rank keeps at least one), MLA's latent is
// replicated on every rank.
double kv_bytes_per_rank(const ModelSpec& model, int attention_tp);

// Bytes an element of the KV cache takes (2 for bf16, 1 for FP8), from the cache's bytes per token
// and its width; 2 when the model does not say its width.
double kv_element_bytes(const ModelSpec& model);

// Attention weights one GPU holds (and a step reads) of one block under attention TP. Every stack
// (vLLM, SGLang, TensorRT-LLM) keeps MLA's down-projections (q_a and kv_a with the rope key)
// replicated and splits the rest; GQA's K and V projections follow kv_bytes_per_rank's heads.
double attention_params_per_rank(const ModelSpec& model, int attention_tp);

// Bytes the elementwise kernels of one block move for one query token on one GPU under attention
// TP (bf16 activations): two fused residual-add RMSNorms (each reads the hidden state and the
// residual and writes both), the rotary embedding of the rank's query heads (read and written),
// the activation of the dense MLP or shared experts (gated: reads gate and up, writes their
// product) and, with FP8 weights, the quantisation of the attention and MLP inputs (2 bytes read,
// 1 written an element). Routed experts' activations are part of the expert GEMMs' pricing.
// Without the MLP (`mlp` false) the activation is left out.
double elementwise_bytes_per_token(const ModelSpec& model, int attention_tp, bool moe_layer,
                                   bool mlp = true);

struct DenseWork {
  double flops = 0;            // on one GPU
  double attention_flops = 0;  // of which the attention core (scores and values over the KV)
  // Of which causal prefill (a prompt attending to itself), over prompts of `causal_prompt` tokens:
  // fused prefill kernels reach less of the tensor cores on short prompts
  // (attention_core_rate.hpp).
  double causal_attention_flops = 0;
  double causal_prompt = 0;
  double weight_bytes = 0;       // weights read from HBM
  double kv_bytes = 0;           // KV cache read (decode)
  double elementwise_bytes = 0;  // norms, rotary, activation, quantisation (all query tokens)
};

struct DenseShape {
  double tokens = 0;  // query tokens of the attention group (a TP group shares them)
  int tensor_parallel = 1;
  bool decode = false;
  double context = 0;            // KV length each sequence attends over
  int queries_per_sequence = 1;  // decode under MTP: the drafts share their sequence's KV read
  bool moe_layer = true;         // MLP = shared experts (MoE block) or the dense MLP
  bool mlp = true;               // false: attention alone (the MLP priced apart)
  // Aggregated serving: prompt tokens prefilled in the same step (in-flight batching). They share
  // the step's weight reads and attend causally over their prompt of `prefill_context` tokens.
  double prefill_tokens = 0;
  double prefill_context = 0;
};

DenseWork dense_work(const ModelSpec& model, const DenseShape& shape);

}  // namespace moesim::sim
